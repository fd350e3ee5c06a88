// Command scanbench measures the walking skeleton end to end: how fast the
// real agent binary scans a fleet of SSH hosts, how fast the real server
// ingests reports, and the peak memory of each process.
//
// The fleet is N in-process SSH servers (in this process, not the agent's)
// replaying the recorded Debian 12 host with its dpkg status grown to about
// -packages entries by adding renamed copies of real stanzas (constructed
// for load, not a real host).
//
//	go run ./bench/scanbench -hosts 200 -packages 1500
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/demo"
	"github.com/vigil-project/vigil/internal/inventory"
)

func main() {
	hosts := flag.Int("hosts", 200, "SSH hosts in the fleet")
	packages := flag.Int("packages", 1500, "dpkg packages per host")
	concurrency := flag.Int("concurrency", 50, "agent concurrency")
	ingestReports := flag.Int("ingest-reports", 1000, "reports pushed in the ingest phase")
	ingestClients := flag.Int("ingest-clients", 4, "concurrent pushers in the ingest phase")
	db := flag.String("db", "", "PostgreSQL URL (default SQLite)")
	flag.Parse()
	if err := run(*hosts, *packages, *concurrency, *ingestReports, *ingestClients, *db); err != nil {
		fmt.Fprintln(os.Stderr, "scanbench:", err)
		os.Exit(1)
	}
}

func run(nHosts, nPkgs, concurrency, nIngest, clients int, db string) error {
	work, err := os.MkdirTemp("", "vigil-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "vigil")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/vigil").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v: %s", err, out)
	}

	rec, err := demo.LoadRecording("debian12")
	if err != nil {
		return err
	}
	rec.Outputs["packages"] = growDpkg(rec.Outputs["packages"], nPkgs)
	pkgs, err := collect.ParseDpkgStatus(rec.Outputs["packages"])
	if err != nil {
		return err
	}
	fmt.Printf("fleet: %d SSH hosts, %d packages each (%d KiB dpkg status)\n", nHosts, len(pkgs), len(rec.Outputs["packages"])>>10)

	dataDir := filepath.Join(work, "data")
	args := []string{"serve", "--data", dataDir, "--listen", "127.0.0.1:0"}
	if db != "" {
		args = append(args, "--db", db)
	}
	srv := exec.Command(bin, args...)
	srv.Env = append(os.Environ(), "VIGIL_ADMIN_PASSWORD=bench")
	url, err := startServer(srv)
	if err != nil {
		return err
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	adminArgs := []string{"--data", dataDir}
	if db != "" {
		adminArgs = append(adminArgs, "--db", db)
	}
	key, err := lastLine(exec.Command(bin, append([]string{"admin", "agent-key", "--name", "bench"}, adminArgs...)...))
	if err != nil {
		return err
	}
	token, err := lastLine(exec.Command(bin, append([]string{"admin", "api-token", "--name", "bench"}, adminArgs...)...))
	if err != nil {
		return err
	}

	var servers []*demo.ReplayServer
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	var hostIDs []int64
	for i := 0; i < nHosts; i++ {
		rs, err := demo.StartReplay(rec, "127.0.0.1:0", "scan", "bench-pw")
		if err != nil {
			return err
		}
		servers = append(servers, rs)
		id, err := addHost(url, token, fmt.Sprintf("bench-%03d", i), rs.Port())
		if err != nil {
			return err
		}
		hostIDs = append(hostIDs, id)
	}

	cfg := filepath.Join(work, "agent.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("api_url: %s\napi_key: %s\nspool_dir: %s\nconcurrency: %d\nlog_level: warn\n",
		url, key, filepath.Join(work, "spool"), concurrency)), 0o600)
	agent := exec.Command(bin, "agent", "scan", "--once", "--config", cfg)
	start := time.Now()
	out, err := agent.CombinedOutput()
	total := time.Since(start)
	if err != nil {
		return fmt.Errorf("agent: %v: %s", err, out)
	}
	scanDur := parseScanDuration(string(out))
	agentRSS := agent.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	fmt.Printf("agent: %s", out)
	fmt.Printf("agent scan rate: %.1f hosts/s (scan %s); with push: %.1f hosts/s (%s); peak RSS %d MiB\n",
		float64(nHosts)/scanDur.Seconds(), scanDur.Round(time.Millisecond), float64(nHosts)/total.Seconds(), total.Round(time.Millisecond), agentRSS>>10)

	// Ingest: push pre-encoded reports in batches of 50, like the agent.
	reports := make([][]byte, nIngest)
	for i := range reports {
		now := time.Now().UTC()
		r := inventory.HostReport{SchemaVersion: inventory.SchemaVersion, ReportID: fmt.Sprintf("bench-%06d", i),
			HostID: hostIDs[i%len(hostIDs)], StartedAt: now, FinishedAt: now, Status: inventory.StatusOK,
			System: inventory.System{OS: inventory.OS{ID: "debian", VersionID: "12", Family: "debian"}}, Packages: pkgs}
		reports[i], _ = json.Marshal(r)
	}
	var batches [][]byte
	for i := 0; i < len(reports); i += 50 {
		batches = append(batches, gzipBatch(reports[i:min(i+50, len(reports))]))
	}
	start = time.Now()
	var wg sync.WaitGroup
	errc := make(chan error, len(batches))
	next := make(chan []byte)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				if err := push(url, key, b); err != nil {
					errc <- err
				}
			}
		}()
	}
	for _, b := range batches {
		next <- b
	}
	close(next)
	wg.Wait()
	ingest := time.Since(start)
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	fmt.Printf("server ingest rate: %.1f reports/s (%d reports of %d packages, %d clients, %s)\n",
		float64(nIngest)/ingest.Seconds(), nIngest, len(pkgs), clients, ingest.Round(time.Millisecond))
	fmt.Printf("server peak RSS: %d MiB\n", peakRSS(srv.Process.Pid)>>10)
	return nil
}

// growDpkg appends renamed copies of real stanzas until the status holds n
// installed packages.
func growDpkg(status []byte, n int) []byte {
	stanzas := bytes.Split(bytes.TrimSpace(status), []byte("\n\n"))
	out := bytes.NewBuffer(append([]byte{}, bytes.TrimSpace(status)...))
	out.WriteString("\n")
	have := bytes.Count(status, []byte("\nStatus: install ok installed")) + bytes.Count(status, []byte("\nStatus: hold ok installed"))
	for i := 0; have < n; i++ {
		s := stanzas[i%len(stanzas)]
		if !bytes.Contains(s, []byte("ok installed")) {
			continue
		}
		copyN := i/len(stanzas) + 1
		s = regexp.MustCompile(`(?m)^Package: (.+)$`).ReplaceAll(s, []byte(fmt.Sprintf("Package: ${1}-bench%d", copyN)))
		out.WriteString("\n")
		out.Write(s)
		out.WriteString("\n")
		have++
	}
	return out.Bytes()
}

var listenRE = regexp.MustCompile(`"vigil server listening" url=(\S+)`)

func startServer(cmd *exec.Cmd) (string, error) {
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return "", err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return u, nil
	case <-time.After(60 * time.Second):
		return "", fmt.Errorf("server did not start")
	}
}

func lastLine(cmd *exec.Cmd) (string, error) {
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%v: %v", cmd.Args, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

func addHost(url, token, name string, port int) (int64, error) {
	body, _ := json.Marshal(map[string]any{"name": name, "address": "127.0.0.1", "port": port, "transport": "ssh", "username": "scan", "password": "bench-pw"})
	req, _ := http.NewRequest("POST", url+"/api/v1/hosts", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var h struct{ ID int64 }
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		return 0, fmt.Errorf("add host: %d %s", resp.StatusCode, b)
	}
	return h.ID, json.Unmarshal(b, &h)
}

func gzipBatch(reports [][]byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"reports":[`))
	zw.Write(bytes.Join(reports, []byte(",")))
	zw.Write([]byte(`]}`))
	zw.Close()
	return buf.Bytes()
}

func push(url, key string, body []byte) error {
	req, _ := http.NewRequest("POST", url+"/api/v1/agent/reports", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || bytes.Contains(b, []byte(`"rejected"`)) {
		return fmt.Errorf("push: %d %s", resp.StatusCode, b)
	}
	return nil
}

var scannedRE = regexp.MustCompile(`in ([0-9.]+[a-zµ]+)`)

func parseScanDuration(out string) time.Duration {
	m := scannedRE.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	d, _ := time.ParseDuration(m[1])
	return d
}

// peakRSS reads VmHWM (KiB) of a running process.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}
