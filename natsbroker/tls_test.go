package natsbroker_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/natsbroker/natstest"
)

// TestBusTLS: with tls_ca_file and a client certificate the bus reaches a
// server that requires TLS and verifies clients; without the certificate
// it does not.
func TestBusTLS(t *testing.T) {
	pki := newPKI(t)
	srv := natstest.Start(t, "--tlsverify", "--tlscert", pki.serverCert, "--tlskey", pki.serverKey, "--tlscacert", pki.ca)
	url := strings.Replace(srv.URL, "nats://", "tls://", 1)
	prefix := natstest.Prefix(t)
	withTLS := func(n *config.NATS) {
		n.TLSCAFile, n.TLSCertFile, n.TLSKeyFile = pki.ca, pki.clientCert, pki.clientKey
	}
	a := newBus(t, url, prefix, busOptions{nats: withTLS})
	b := newBus(t, url, prefix, busOptions{nats: withTLS})
	b.watch(t, 1)
	a.publish(t, 1, "over tls")
	b.rcv.expect(t, received{1, "over tls"})

	noCert := newBus(t, url, prefix, busOptions{nats: func(n *config.NATS) { n.TLSCAFile = pki.ca }, maxLag: time.Nanosecond})
	testkit.Eventually(t, "Ready to fail without a client certificate", func() bool { return noCert.Ready(t.Context()) != nil })
}

// pki is a CA with a server certificate for 127.0.0.1 and a client
// certificate, as PEM files.
type pki struct{ ca, serverCert, serverKey, clientCert, clientKey string }

func newPKI(tb testing.TB) pki {
	tb.Helper()
	dir := tb.TempDir()
	caKey, caCert := newCert(tb, "notifyd test CA", nil, nil, func(c *x509.Certificate) {
		c.IsCA, c.BasicConstraintsValid = true, true
		c.KeyUsage = x509.KeyUsageCertSign
	})
	p := pki{ca: writePEM(tb, dir, "ca.pem", "CERTIFICATE", caCert.Raw)}
	srvKey, srvCert := newCert(tb, "127.0.0.1", caKey, caCert, func(c *x509.Certificate) {
		c.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	p.serverCert = writePEM(tb, dir, "server.pem", "CERTIFICATE", srvCert.Raw)
	p.serverKey = writeKey(tb, dir, "server-key.pem", srvKey)
	cliKey, cliCert := newCert(tb, "notifyd", caKey, caCert, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	})
	p.clientCert = writePEM(tb, dir, "client.pem", "CERTIFICATE", cliCert.Raw)
	p.clientKey = writeKey(tb, dir, "client-key.pem", cliKey)
	return p
}

// newCert makes a key and a certificate for name, signed by parent (self
// signed when parent is nil).
func newCert(tb testing.TB, name string, parentKey *ecdsa.PrivateKey, parent *x509.Certificate, edit func(*x509.Certificate)) (*ecdsa.PrivateKey, *x509.Certificate) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	edit(tmpl)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return key, cert
}

func writeKey(tb testing.TB, dir, name string, key *ecdsa.PrivateKey) string {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return writePEM(tb, dir, name, "PRIVATE KEY", der)
}

func writePEM(tb testing.TB, dir, name, typ string, der []byte) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
