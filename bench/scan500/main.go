// Command scan500 measures the agent's scan rate and peak memory against a
// fleet of in-process SSH hosts on a slow network: every byte a host sends
// reaches the agent a fixed delay later (-latency, 20 ms by default), so
// each request/response exchange of SSH (key exchange, login, channel open,
// exec) costs one round trip, as across a WAN.
//
// The hosts replay the demo fleet's real recordings (Debian 12, AlmaLinux 9,
// Alpine 3.18 in turn) and answer the agent's batched probe scripts with
// collect.AnswerBatch; a probe a recording lacks exits 127, as on a host
// without the tool. The agent is the real one (internal/agent: config pull,
// SSH, probes, spool, push) in a child process of its own, so its peak RSS
// is the agent's alone; the parent serves a stub of the agent API that
// accepts every report.
//
//	go run ./bench/scan500                       # 500 hosts, 20 ms, concurrency 50
//	go run ./bench/scan500 -hosts 500 -latency 20ms -concurrency 100
package main

import (
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/agent"
	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/demo"
	"github.com/vigil-project/vigil/internal/inventory"
)

func main() {
	hosts := flag.Int("hosts", 500, "SSH hosts in the fleet")
	latency := flag.Duration("latency", 20*time.Millisecond, "delay added to every host-to-agent transfer (one per round trip)")
	concurrency := flag.Int("concurrency", 50, "agent concurrency")
	noBatch := flag.Bool("no-batch", false, "hosts reject batch scripts, so the agent runs one exec per probe (the figure before batching)")
	targets := flag.String("targets", "", "scan real SSH hosts instead: a file of address:port lines (bench/ansible uses it)")
	user := flag.String("user", "", "with -targets: the login")
	keyFile := flag.String("key", "", "with -targets: the private key file")
	child := flag.String("child", "", "internal: run the agent with this config file")
	flag.Parse()
	if *targets != "" {
		if err := runTargets(*targets, *user, *keyFile, *concurrency); err != nil {
			fmt.Fprintln(os.Stderr, "scan500:", err)
			os.Exit(1)
		}
		return
	}
	if *child != "" {
		if err := runAgent(*child); err != nil {
			fmt.Fprintln(os.Stderr, "scan500 agent:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*hosts, *latency, *concurrency, *noBatch); err != nil {
		fmt.Fprintln(os.Stderr, "scan500:", err)
		os.Exit(1)
	}
}

// runAgent is the child: what `vigil agent scan --once` does.
func runAgent(path string) error {
	cfg, err := agent.LoadConfig(path)
	if err != nil {
		return err
	}
	a, err := agent.New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	stats, err := a.ScanOnce(context.Background())
	if err != nil {
		return err
	}
	fmt.Printf("scanned %d hosts (%d ok, %d failed) in %s\n", stats.Hosts, stats.OK, stats.Failed, stats.Duration)
	return nil
}

func run(nHosts int, latency time.Duration, concurrency int, noBatch bool) error {
	work, err := os.MkdirTemp("", "vigil-scan500-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	fleet, err := loadFleet()
	if err != nil {
		return err
	}
	var execs atomic.Int64
	var specs []inventory.HostSpec
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for i := 0; i < nHosts; i++ {
		h := fleet[i%len(fleet)]
		srv, port, err := startHost(h, latency, noBatch, &execs)
		if err != nil {
			return err
		}
		closers = append(closers, srv)
		specs = append(specs, inventory.HostSpec{ID: int64(i + 1), Name: fmt.Sprintf("%s-%03d", h.name, i), Address: "127.0.0.1", Port: port,
			Transport: inventory.TransportSSH, Credential: &inventory.Credential{Username: "scan", Password: "bench-pw"}})
	}

	mode := "batched probes"
	if noBatch {
		mode = "batches refused: one exec per probe"
	}
	fmt.Printf("fleet: %d SSH hosts (%s in turn), %s added per round trip, agent concurrency %d, %s\n",
		nHosts, fleetNames(fleet), latency, concurrency, mode)
	api := &stubAPI{cfg: inventory.AgentConfig{SchemaVersion: inventory.SchemaVersion, AgentID: 1, WorkspaceID: 1,
		Schedule: inventory.Schedule{IntervalSeconds: 3600, Anchor: "00:00"}, Hosts: specs}}
	res, err := runChild(work, api, concurrency)
	if err != nil {
		return err
	}
	scanned, failed, d, total, rss := res.scanned, res.failed, res.scan, res.total, res.rssKiB
	fmt.Printf("exec round trips: %d (%.1f per host); reports accepted: %d, with %d probe errors in all (probes the alma9 and alpine318 recordings lack)\n",
		execs.Load(), float64(execs.Load())/float64(nHosts), api.accepted.Load(), api.probeErrors.Load())
	fmt.Printf("scan rate: %.1f hosts/s (%d hosts in %s); with config pull and push: %.1f hosts/s (%s); agent peak RSS %d MiB\n",
		float64(scanned)/d.Seconds(), scanned, d.Round(time.Millisecond), float64(scanned)/total.Seconds(), total.Round(time.Millisecond), rss>>10)
	if failed > 0 || int(api.accepted.Load()) != nHosts {
		return fmt.Errorf("%d hosts failed, %d reports accepted", failed, api.accepted.Load())
	}
	return nil
}

type childResult struct {
	scanned, failed int
	scan, total     time.Duration
	rssKiB          int64
}

// runChild serves api and runs the agent in a child process against it.
func runChild(work string, api *stubAPI, concurrency int) (childResult, error) {
	var res childResult
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	hs := &http.Server{Handler: api}
	go hs.Serve(ln)
	defer hs.Close()
	cfgPath := filepath.Join(work, "agent.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("api_url: http://%s\napi_key: bench-key\nspool_dir: %s\nconcurrency: %d\nlog_level: warn\n",
		ln.Addr(), filepath.Join(work, "spool"), concurrency)), 0o600); err != nil {
		return res, err
	}
	self, err := os.Executable()
	if err != nil {
		return res, err
	}
	cmd := exec.Command(self, "-child", cfgPath)
	cmd.Stderr = os.Stderr
	start := time.Now()
	out, err := cmd.Output()
	res.total = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("agent: %v: %s", err, out)
	}
	res.rssKiB = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	var ok int
	var ds string
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "scanned %d hosts (%d ok, %d failed) in %s", &res.scanned, &ok, &res.failed, &ds); err != nil {
		return res, fmt.Errorf("agent output %q: %v", out, err)
	}
	if res.scan, err = time.ParseDuration(ds); err != nil {
		return res, err
	}
	fmt.Print("agent: ", string(out))
	return res, nil
}

// runTargets scans real SSH hosts with a key, for the Ansible comparison.
func runTargets(path, user, keyFile string, concurrency int) error {
	work, err := os.MkdirTemp("", "vigil-targets-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	var specs []inventory.HostSpec
	for i, l := range strings.Fields(string(b)) {
		addr, port, err := net.SplitHostPort(l)
		if err != nil {
			return err
		}
		var p int
		fmt.Sscan(port, &p)
		specs = append(specs, inventory.HostSpec{ID: int64(i + 1), Name: l, Address: addr, Port: p, Transport: inventory.TransportSSH,
			Credential: &inventory.Credential{Username: user, PrivateKey: string(key)}})
	}
	api := &stubAPI{cfg: inventory.AgentConfig{SchemaVersion: inventory.SchemaVersion, AgentID: 1, WorkspaceID: 1,
		Schedule: inventory.Schedule{IntervalSeconds: 3600, Anchor: "00:00"}, Hosts: specs}}
	res, err := runChild(work, api, concurrency)
	if err != nil {
		return err
	}
	fmt.Printf("vigil: %d hosts, scan %s, whole agent run %s (process start, config pull, scan, push), %d reports accepted, %d probe errors, agent peak RSS %d MiB\n",
		res.scanned, res.scan.Round(time.Millisecond), res.total.Round(time.Millisecond), api.accepted.Load(), api.probeErrors.Load(), res.rssKiB>>10)
	fmt.Printf("vigil_seconds=%.3f\n", res.total.Seconds())
	if res.failed > 0 {
		return fmt.Errorf("%d hosts failed", res.failed)
	}
	return nil
}

// host is one recorded machine: every catalogue command it can answer.
type host struct {
	name string
	out  map[string][]byte
}

// loadFleet maps each recording's outputs to the commands that print them,
// like the demo replay servers do. Debian 12 also answers the accounts,
// kernel_installed and python_packages probes, from its item recordings and
// the Python recording of internal/collect/testdata.
func loadFleet() ([]host, error) {
	var fleet []host
	for _, name := range []string{"debian12", "alma9", "alpine318"} {
		rec, err := demo.LoadRecording(name)
		if err != nil {
			return nil, err
		}
		h := host{name: name, out: map[string][]byte{}}
		for key, cmd := range collect.Commands() {
			file, _, _ := strings.Cut(key, "/")
			if o, ok := rec.Outputs[file]; ok {
				h.out[cmd] = o
			}
		}
		for name, cmd := range collect.ItemCommands() {
			if o, ok := rec.Outputs["item-"+name]; ok {
				h.out[cmd] = o
			}
		}
		cmds := collect.Commands()
		if o, ok := rec.Outputs["item-accounts"]; ok {
			h.out[cmds["accounts"]] = o
		}
		if o, ok := rec.Outputs["item-reboot_required"]; ok {
			h.out[cmds["kernel_installed"]] = o
		}
		if name == "debian12" {
			py, err := os.ReadFile("internal/collect/testdata/python/debian12/python_packages")
			if err != nil {
				return nil, fmt.Errorf("run from the repository root: %w", err)
			}
			h.out[cmds["python_packages"]] = py
		}
		fleet = append(fleet, h)
	}
	return fleet, nil
}

func fleetNames(f []host) string {
	var n []string
	for _, h := range f {
		n = append(n, h.name)
	}
	return strings.Join(n, ", ")
}

// startHost serves one host on a free port through a delaying listener.
func startHost(h host, latency time.Duration, noBatch bool, execs *atomic.Int64) (io.Closer, int, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, 0, err
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return nil, 0, err
	}
	srv := &ssh.Server{
		Handler: func(s ssh.Session) {
			execs.Add(1)
			cmd := s.RawCommand()
			if collect.IsBatch(cmd) && !noBatch {
				out, _ := collect.AnswerBatch(cmd, func(c string) ([]byte, string, int) {
					if o, ok := h.out[c]; ok {
						return o, "", 0
					}
					return nil, "sh: 1: not in the recording of " + h.name, 127
				})
				s.Write(out)
				s.Exit(0)
				return
			}
			if o, ok := h.out[cmd]; ok {
				s.Write(o)
				s.Exit(0)
				return
			}
			fmt.Fprintf(s.Stderr(), "sh: command not in the recording of %s\n", h.name)
			s.Exit(127)
		},
		PasswordHandler: func(ctx ssh.Context, pw string) bool { return ctx.User() == "scan" && pw == "bench-pw" },
	}
	srv.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	go srv.Serve(delayListener{ln, latency})
	return srv, ln.Addr().(*net.TCPAddr).Port, nil
}

// delayListener hands out connections whose writes arrive latency later.
type delayListener struct {
	net.Listener
	d time.Duration
}

func (l delayListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil || l.d <= 0 {
		return c, err
	}
	dc := &delayConn{Conn: c, q: make(chan chunk, 1024)}
	go dc.pump(l.d)
	return dc, nil
}

type chunk struct {
	due  time.Time
	data []byte
}

// delayConn delivers each write, in order, a fixed delay after it was made:
// a one-way delay on the host-to-agent direction, so every exchange costs
// one delay without serialising writes made in the same round trip.
type delayConn struct {
	net.Conn
	q      chan chunk
	mu     sync.Mutex // guards closed against a Write racing Close
	closed bool
	dead   atomic.Bool
}

func (c *delayConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.dead.Load() {
		return 0, net.ErrClosed
	}
	c.q <- chunk{time.Now(), append([]byte(nil), b...)}
	return len(b), nil
}

func (c *delayConn) pump(d time.Duration) {
	for ch := range c.q {
		if w := time.Until(ch.due.Add(d)); w > 0 {
			time.Sleep(w)
		}
		if _, err := c.Conn.Write(ch.data); err != nil {
			c.dead.Store(true)
		}
	}
	c.Conn.Close()
}

// Close lets the queued writes drain, then closes the connection.
func (c *delayConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.q)
	}
	return nil
}

// stubAPI is the part of the server API the agent uses: its config, report
// pushes (every report accepted) and run status.
type stubAPI struct {
	cfg         inventory.AgentConfig
	accepted    atomic.Int64
	probeErrors atomic.Int64
}

func (a *stubAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/api/v1/agent/config":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(a.cfg)
	case "/api/v1/agent/reports":
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body = zr
		}
		var b inventory.Batch
		if err := json.NewDecoder(body).Decode(&b); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var reply inventory.BatchReply
		for _, rep := range b.Reports {
			res := inventory.BatchResult{ReportID: rep.ReportID, Status: inventory.ResultAccepted}
			if err := rep.Validate(); err != nil || rep.Status != inventory.StatusOK {
				res.Status, res.Error = inventory.ResultRejected, fmt.Sprint(err, rep.Error)
			} else {
				a.accepted.Add(1)
			}
			for _, p := range rep.Probes {
				// Privileged probes without sudo are expected, not errors.
				if p.Error != "" && !p.NeedsPrivilege {
					a.probeErrors.Add(1)
				}
			}
			reply.Results = append(reply.Results, res)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(reply)
	default:
		if strings.HasPrefix(r.URL.Path, "/api/v1/agent/") {
			w.WriteHeader(http.StatusNoContent) // status and other reports the stub ignores
			return
		}
		http.NotFound(w, r)
	}
}
