// Command vcsim serves govmomi's vCenter simulator with an inventory shaped by flags.
//
// It is vscope's stand-in for a real vCenter in tests, demos and benchmarks. When the
// server is ready it prints one line of JSON on stdout:
//
//	{"url":"http://127.0.0.1:40123/sdk","caFile":""}
//
// and serves until it receives SIGINT or SIGTERM.
//
// RetrievePropertiesEx pages on maxObjects (collector.go). With -permissions FILE it enforces
// users and vCenter's permission model (permissions.go, collector.go, updates.go, auth.go).
package main

import (
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	dc := flag.Int("dc", 1, "datacenters")
	cluster := flag.Int("cluster", 1, "clusters per datacenter")
	host := flag.Int("host", 3, "hosts per cluster")
	standalone := flag.Int("standalone-host", 1, "standalone hosts per datacenter")
	pool := flag.Int("pool", 0, "resource pools per cluster, beside the root pool")
	vm := flag.Int("vm", 2, "virtual machines per resource pool (and per standalone host)")
	ds := flag.Int("ds", 1, "datastores (each mounted on every host)")
	listen := flag.String("l", "127.0.0.1:0", "address to listen on")
	username := flag.String("username", "", "require this username (any login is accepted when empty)")
	password := flag.String("password", "", "require this password")
	useTLS := flag.Bool("tls", false, "serve https with a self-signed certificate")
	delayMs := flag.Int("delay", 0, "delay every SOAP call by this many milliseconds")
	dir := flag.String("dir", "", "folder for the CA file when -tls is set (default: a temporary folder)")
	permissionsPath := flag.String("permissions", "", "JSON file of users and permissions to enforce, as vCenter does (see DEVELOPERS.md)")
	flag.Parse()

	model := simulator.VPX()
	model.Datacenter = *dc
	model.Cluster = *cluster
	model.ClusterHost = *host
	model.Host = *standalone
	model.Pool = *pool
	model.Machine = *vm
	model.Datastore = *ds
	model.DelayConfig.Delay = *delayMs

	if err := model.Create(); err != nil {
		fail("create inventory: %v", err)
	}
	defer model.Remove()

	installCollector()
	if *permissionsPath != "" {
		if *username == "" || *password == "" {
			model.Remove()
			fail("-permissions needs -username and -password: that account is the administrator")
		}
		roles := installAuthorizationManager()
		loaded, err := loadPermissions(*permissionsPath, *username, *password, roles)
		if err != nil {
			model.Remove() // its datastores are folders under the temporary directory
			fail("%v", err)
		}
		permissions = loaded
		simulator.Map.AddHandler(inventoryWatcher{})
	}

	listenURL := &url.URL{Host: *listen}
	if *username != "" && permissions == nil {
		listenURL.User = url.UserPassword(*username, *password)
	}
	model.Service.Listen = listenURL
	if *useTLS {
		model.Service.TLS = new(simulatorTLS).config()
	}

	server := model.Service.NewServer()
	defer server.Close()
	if permissions != nil {
		// The simulator accepts any login here; loginGate checks the accounts. The server
		// already runs, but no client knows its address before the ready line below.
		server.Config.Handler = loginGate(permissions, simulator.Map.Path, server.Config.Handler)
	}

	caFile := ""
	if *useTLS {
		caFile = writeCA(server, *dir)
		defer os.Remove(caFile)
	}

	// The simulator advertises a non-loopback address when it listens on 0.0.0.0;
	// report the address clients should use.
	public := *server.URL
	public.User = nil
	line, _ := json.Marshal(map[string]string{"url": public.String(), "caFile": caFile})
	fmt.Println(string(line))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	close(stopping) // server.Close waits for every call: end the waiting ones
}

func writeCA(server *simulator.Server, dir string) string {
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "vcsim-ca-"); err != nil {
			fail("temporary folder: %v", err)
		}
	}
	path := filepath.Join(dir, "vcsim-ca.pem")
	cert := server.Certificate()
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := os.WriteFile(path, data, 0o644); err != nil {
		fail("write CA file: %v", err)
	}
	return path
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "vcsim: "+format+"\n", args...)
	os.Exit(1)
}
