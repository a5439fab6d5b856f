package recorder

import (
	"net"
	"net/netip"
	"strings"
)

// ClientIP returns the client's address: the peer's (host:port or a
// bare address), or, when the peer is one of the trusted proxies, the
// rightmost X-Forwarded-For address that is not one. Addresses left of
// it are the client's own claims and are not believed.
func ClientIP(peerAddr string, xff []string, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(peerAddr)
	if err != nil {
		host = peerAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer, trusted) {
		return host
	}
	ip := peer.Unmap()
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				// What a trusted proxy passed on is garbage: stop at the
				// last address known good.
				return ip.String()
			}
			ip = a.Unmap()
			if !isTrusted(ip, trusted) {
				return ip.String()
			}
		}
	}
	return ip.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
