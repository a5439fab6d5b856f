package compat

import (
	"encoding/json"
	"fmt"
	"strings"
)

// KeyRef names one Ed25519 public key: the key_id that records carry and
// the 32-byte public key in hex.
type KeyRef struct {
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
}

// Trust is what the verifier is given from outside the log, in the shape of
// a fixture's "verify_with" object.
//
// Spine uses Keys (the trusted client keys, looked up by the key_id each
// record carries; the public_key embedded in a record is never trusted) and
// ServerKey (to verify receipts.jsonl). spanforge uses Secret (the HMAC
// secret the chain starts with) and KeyMap (rotation event_id → the secret
// that signs the events after it). immutable-logging needs nothing.
//
// Secrets is sealog's addition for spanforge chains re-keyed without a
// key_map: further candidate secrets. When Secret does not verify the first
// event, the candidates are tried in order and the first that verifies it
// is used. At a verified key-rotation event with no key_map entry, the
// candidate whose SHA-256 equals the event's new_secret_hash becomes the
// secret; secrets are never switched anywhere else, so a retired secret
// cannot vouch for later events.
type Trust struct {
	Keys      []KeyRef          `json:"keys,omitempty"`
	ServerKey *KeyRef           `json:"server_key,omitempty"`
	Secret    string            `json:"secret,omitempty"`
	KeyMap    map[string]string `json:"key_map,omitempty"`
	Secrets   []string          `json:"secrets,omitempty"`
}

// ParseTrust reads a JSON object shaped like a fixture's verify_with. It also
// accepts a few spellings seen in key files: "keys" as an object mapping
// key_id to public key or as a list of "key_id=hex" strings, "server_key" as
// a "key_id=hex" string or bare hex (with its id in a top-level
// "server_key_id"), and "key_map" as a list of {event_id, secret}.
// Unknown members (such as "note") are ignored.
func ParseTrust(data []byte) (Trust, error) {
	var t Trust
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return t, fmt.Errorf("trust: not a JSON object: %w", err)
	}
	var err error
	if v, ok := raw["keys"]; ok {
		if t.Keys, err = parseKeyList(v); err != nil {
			return t, fmt.Errorf("trust: keys: %w", err)
		}
	}
	if v, ok := raw["server_key"]; ok && !isJSONNull(v) {
		keys, err := parseKeyList(v)
		if err != nil || len(keys) != 1 {
			return t, fmt.Errorf("trust: server_key: want one {key_id, public_key}: %v", err)
		}
		t.ServerKey = &keys[0]
		var id string
		if v, ok := raw["server_key_id"]; ok && json.Unmarshal(v, &id) == nil && t.ServerKey.KeyID == "" {
			t.ServerKey.KeyID = id
		}
	}
	if v, ok := raw["secret"]; ok && !isJSONNull(v) {
		if err := json.Unmarshal(v, &t.Secret); err != nil {
			return t, fmt.Errorf("trust: secret: %w", err)
		}
	}
	if v, ok := raw["secrets"]; ok && !isJSONNull(v) {
		if err := json.Unmarshal(v, &t.Secrets); err != nil {
			return t, fmt.Errorf("trust: secrets: %w", err)
		}
	}
	if v, ok := raw["key_map"]; ok && !isJSONNull(v) {
		if t.KeyMap, err = parseKeyMap(v); err != nil {
			return t, fmt.Errorf("trust: key_map: %w", err)
		}
	}
	return t, nil
}

func isJSONNull(v json.RawMessage) bool { return strings.TrimSpace(string(v)) == "null" }

// parseKeyList accepts a list of {key_id, public_key} objects, an object
// key_id → hex, a single {key_id, public_key} object, or "key_id=hex"
// strings.
func parseKeyList(v json.RawMessage) ([]KeyRef, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(v, &list); err == nil {
		out := make([]KeyRef, 0, len(list))
		for i, item := range list {
			k, err := parseKeyRef(item)
			if err != nil {
				return nil, fmt.Errorf("entry %d: %w", i, err)
			}
			out = append(out, k)
		}
		return out, nil
	}
	if k, err := parseKeyRef(v); err == nil {
		return []KeyRef{k}, nil
	}
	var m map[string]string
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, fmt.Errorf("want a list of {key_id, public_key} or an object key_id → hex")
	}
	out := make([]KeyRef, 0, len(m))
	for id, hexKey := range m {
		out = append(out, KeyRef{KeyID: id, PublicKey: hexKey})
	}
	sortKeyRefs(out)
	return out, nil
}

func parseKeyRef(v json.RawMessage) (KeyRef, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		id, hexKey, ok := strings.Cut(s, "=")
		if !ok {
			return KeyRef{PublicKey: s}, nil
		}
		return KeyRef{KeyID: id, PublicKey: hexKey}, nil
	}
	var o struct {
		KeyID       string `json:"key_id"`
		ServerKeyID string `json:"server_key_id"`
		PublicKey   string `json:"public_key"`
		Key         string `json:"key"`
	}
	if err := json.Unmarshal(v, &o); err != nil {
		return KeyRef{}, err
	}
	k := KeyRef{KeyID: o.KeyID, PublicKey: o.PublicKey}
	if k.KeyID == "" {
		k.KeyID = o.ServerKeyID
	}
	if k.PublicKey == "" {
		k.PublicKey = o.Key
	}
	if k.PublicKey == "" {
		return KeyRef{}, fmt.Errorf("no public_key")
	}
	return k, nil
}

func parseKeyMap(v json.RawMessage) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal(v, &m); err == nil {
		return m, nil
	}
	var list []struct {
		EventID         string `json:"event_id"`
		RotationEventID string `json:"rotation_event_id"`
		Secret          string `json:"secret"`
		NewSecret       string `json:"new_secret"`
	}
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, fmt.Errorf("want an object rotation event_id → secret")
	}
	m = make(map[string]string, len(list))
	for _, e := range list {
		id, sec := e.EventID, e.Secret
		if id == "" {
			id = e.RotationEventID
		}
		if sec == "" {
			sec = e.NewSecret
		}
		m[id] = sec
	}
	return m, nil
}

func sortKeyRefs(k []KeyRef) {
	for i := 1; i < len(k); i++ {
		for j := i; j > 0 && k[j].KeyID < k[j-1].KeyID; j-- {
			k[j], k[j-1] = k[j-1], k[j]
		}
	}
}
