package checkpoint

// SignerKeyHash returns the key hash of the first signature line of msg
// by a key called name (for a sealog checkpoint, the origin), without
// checking any signature: to tell which key of a rotated log signed it.
func SignerKeyHash(msg []byte, name string) (uint32, bool) {
	n, err := ParseNote(msg)
	if err != nil {
		return 0, false
	}
	for _, s := range n.Sigs {
		if s.Name == name {
			return s.KeyHash, true
		}
	}
	return 0, false
}
