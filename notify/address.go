package notify

import "net/netip"

// AddressKey is the client a per-address limit counts: the IP address
// itself for IPv4, and its /64 network for IPv6, since one host commonly
// holds a whole /64 and could otherwise take a fresh address per request.
// Anything that does not parse is its own key.
func AddressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap() // ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
