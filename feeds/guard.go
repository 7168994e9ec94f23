package feeds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/net/http/httpproxy"
)

// ErrForbiddenAddress is wrapped by every refusal of the address guard: a
// feed, a list page or a redirect pointed at a loopback, link-local,
// private, unique-local, unspecified, multicast or CGNAT address.
var ErrForbiddenAddress = errors.New("feeds: destination address not allowed")

// AddressError is a connection the address guard refused. It is raised at
// connect time, on the resolved IP, so a host name that resolves (or is
// re-bound) to a private address is refused as well.
type AddressError struct {
	Addr   netip.Addr
	Reason string // "loopback", "private", "link-local", …
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s: a %s address (only the host:port written in the source's url, or a source with allow_private: true, may reach private networks)", e.Addr, e.Reason)
}

// Unwrap makes errors.Is(err, ErrForbiddenAddress) true.
func (e *AddressError) Unwrap() error { return ErrForbiddenAddress }

var (
	cgnatPrefix  = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8")
	reservedV4   = netip.MustParsePrefix("240.0.0.0/4")
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")
	uniqueLocal  = netip.MustParsePrefix("fc00::/7")
	siteLocalV6  = netip.MustParsePrefix("fec0::/10")
	v4CompatLike = netip.MustParsePrefix("::/96")
)

// ForbiddenReason tells why the address guard refuses ip, or "" when ip is
// a public address. IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible and NAT64
// (64:ff9b::a.b.c.d) forms are judged by the IPv4 address they carry.
func ForbiddenReason(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() && (nat64Prefix.Contains(ip) || (v4CompatLike.Contains(ip) && !ip.IsLoopback() && !ip.IsUnspecified())) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsUnspecified(), ip.Is4() && thisNetwork.Contains(ip):
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	case ip.Is4() && cgnatPrefix.Contains(ip):
		return "shared (CGNAT)"
	case ip.Is6() && (uniqueLocal.Contains(ip) || siteLocalV6.Contains(ip)):
		return "unique-local"
	case ip.IsPrivate():
		return "private"
	case ip.Is4() && (reservedV4.Contains(ip)):
		return "reserved"
	}
	return ""
}

// guardControl is the net.Dialer Control of guarded connections: it runs
// after name resolution, on the very address being connected to.
func guardControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &AddressError{Reason: "unparseable (" + address + ")"}
	}
	if reason := ForbiddenReason(ap.Addr()); reason != "" {
		return &AddressError{Addr: ap.Addr().Unmap(), Reason: reason}
	}
	return nil
}

// fetchPolicy says which destinations one fetch may reach besides public
// addresses: the host:port written in the source's url, or anything when
// the source sets allow_private. It travels in the request's context, so
// every redirect hop is judged under the same policy.
type fetchPolicy struct {
	adminHost    string // lower-case host:port with the scheme's default port
	allowPrivate bool
	refused      *refusals // may be nil
}

type policyKey struct{}

func withPolicy(ctx context.Context, p *fetchPolicy) context.Context {
	return context.WithValue(ctx, policyKey{}, p)
}

// WithAdminURL makes every fetch under ctx judge destinations as a source
// whose url is rawURL: its exact host:port may be private, every other
// address (links found on its pages, redirects) is guarded. Commands that
// fetch several pages from one URL an admin typed (discover) use it, so a
// page cannot send them to a private address.
func WithAdminURL(ctx context.Context, rawURL string) context.Context {
	u, err := url.Parse(rawURL)
	if err != nil {
		return withPolicy(ctx, &fetchPolicy{})
	}
	return withPolicy(ctx, &fetchPolicy{adminHost: hostPort(u)})
}

func policyFrom(ctx context.Context) *fetchPolicy {
	p, _ := ctx.Value(policyKey{}).(*fetchPolicy)
	return p
}

// RefusedLink is a link of a source that the address guard did not fetch.
type RefusedLink struct {
	URL    string // redacted
	Reason string
}

// refusals collects the refused links of one poll.
type refusals struct {
	mu    sync.Mutex
	links []RefusedLink
}

func (r *refusals) add(l RefusedLink) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.links = append(r.links, l)
}

func (r *refusals) list() []RefusedLink {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RefusedLink(nil), r.links...)
}

// hostPort is u's lower-case host:port, the port defaulted from the scheme.
func hostPort(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(host, port)
}

// guardTransport routes each request (and each redirect hop) to one of two
// transports: trusted, which may connect anywhere, for the admin-named
// host:port and allow_private sources; guarded, whose dialer refuses
// non-public addresses, for everything else. Keeping two connection pools
// means a connection opened for an admin-named host is never reused for a
// request that was not allowed to open it.
type guardTransport struct {
	trusted, guarded *http.Transport
	proxy            func(*url.URL) (*url.URL, error)
	resolver         *net.Resolver
}

func (g *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := policyFrom(req.Context())
	if p != nil && (p.allowPrivate || hostPort(req.URL) == p.adminHost) {
		return g.trusted.RoundTrip(req)
	}
	// Through a proxy the connection goes to the proxy, so the destination is
	// checked here instead (without rebinding protection: the proxy resolves).
	if pu, err := g.proxy(req.URL); err == nil && pu != nil {
		if err := g.checkHost(req.Context(), req.URL.Hostname()); err != nil {
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, err
		}
	}
	return g.guarded.RoundTrip(req)
}

func (g *guardTransport) checkHost(ctx context.Context, host string) error {
	addrs, err := g.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil // the proxy reports what it cannot resolve
	}
	for _, a := range addrs {
		if reason := ForbiddenReason(a); reason != "" {
			return &AddressError{Addr: a.Unmap(), Reason: reason}
		}
	}
	return nil
}

// CloseIdleConnections closes both pools' idle connections.
func (g *guardTransport) CloseIdleConnections() {
	g.trusted.CloseIdleConnections()
	g.guarded.CloseIdleConnections()
}

// proxyHosts are the host:port of the proxies configured in the
// environment: the guarded dialer may connect to them.
func proxyHosts(cfg *httpproxy.Config) map[string]bool {
	out := map[string]bool{}
	for _, raw := range []string{cfg.HTTPProxy, cfg.HTTPSProxy} {
		if raw == "" {
			continue
		}
		if !strings.Contains(raw, "://") {
			raw = "http://" + raw
		}
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			out[hostPort(u)] = true
		}
	}
	return out
}

// newGuardTransport builds the two transports from one template.
func newGuardTransport(template func(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport, open, guarded *net.Dialer) *guardTransport {
	pcfg := httpproxy.FromEnvironment()
	proxies := proxyHosts(pcfg)
	proxyFunc := pcfg.ProxyFunc()
	g := &guardTransport{
		trusted:  template(open.DialContext),
		resolver: net.DefaultResolver,
		proxy:    proxyFunc,
	}
	g.guarded = template(func(ctx context.Context, network, addr string) (net.Conn, error) {
		if proxies[strings.ToLower(addr)] {
			return open.DialContext(ctx, network, addr)
		}
		return guarded.DialContext(ctx, network, addr)
	})
	proxy := func(r *http.Request) (*url.URL, error) { return proxyFunc(r.URL) }
	g.trusted.Proxy, g.guarded.Proxy = proxy, proxy
	return g
}
