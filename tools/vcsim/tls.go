package main

import "crypto/tls"

// simulatorTLS yields a TLS configuration; the certificate itself is the simulator's
// built-in self-signed localhost certificate (httptest's), filled in by StartTLS.
type simulatorTLS struct{}

func (simulatorTLS) config() *tls.Config { return new(tls.Config) }
