package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/server"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/store/postgres"
	"github.com/vigil-project/vigil/internal/store/sqlite"
	"github.com/vigil-project/vigil/internal/web"
)

// serverFlags are shared by serve, admin and demo: where the data lives.
type serverFlags struct {
	dataDir       string
	dbURL         string
	masterKeyFile string
	logLevel      string
}

func (f *serverFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.dataDir, "data", "./vigil-data", "data directory: SQLite database and the generated master key")
	fs.StringVar(&f.dbURL, "db", "", "PostgreSQL URL (postgres://user@host/db); default is SQLite in --data")
	fs.StringVar(&f.masterKeyFile, "master-key-file", "", "file with the base64 32-byte key that encrypts credentials (or VIGIL_MASTER_KEY); default DATA/master.key, generated on first start")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
}

// backend is an opened store with the service on top.
type backend struct {
	store store.Store
	svc   *service.Service
	log   *slog.Logger
	dbURL string // PostgreSQL URL; empty for SQLite
	// proxies are the trusted reverse proxies (--trusted-proxy).
	proxies []netip.Prefix
}

func (b *backend) Close() error { return b.store.Close() }

// openBackend opens the database (running migrations), loads or creates the
// master key and bootstraps the default workspace and admin user. A
// generated admin password is printed once to out.
func openBackend(ctx context.Context, f *serverFlags, logOut, out io.Writer) (*backend, error) {
	log, err := newLogger(logOut, f.logLevel)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	key, err := masterKey(f, log)
	if err != nil {
		return nil, err
	}
	sealer, err := secrets.NewSealer(key)
	if err != nil {
		return nil, err
	}
	var st store.Store
	if f.dbURL != "" {
		if !strings.HasPrefix(f.dbURL, "postgres://") && !strings.HasPrefix(f.dbURL, "postgresql://") {
			return nil, fmt.Errorf("--db must be a postgres:// URL (SQLite is the default and needs no --db)")
		}
		st, err = postgres.Open(ctx, f.dbURL)
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(f.dataDir, "vigil.db"))
	}
	if err != nil {
		return nil, err
	}
	svc := service.New(st, sealer, log)
	res, err := svc.Bootstrap(ctx, os.Getenv("VIGIL_ADMIN_PASSWORD"))
	if err != nil {
		st.Close()
		return nil, err
	}
	if res.AdminCreated {
		if res.AdminPassword != "" {
			fmt.Fprintf(out, "Created admin user %q with password: %s\n(shown once; set VIGIL_ADMIN_PASSWORD before first start to choose it)\n", res.AdminLogin, res.AdminPassword)
		} else {
			fmt.Fprintf(out, "Created admin user %q with the password from VIGIL_ADMIN_PASSWORD\n", res.AdminLogin)
		}
	}
	return &backend{store: st, svc: svc, log: log, dbURL: f.dbURL}, nil
}

func masterKey(f *serverFlags, log *slog.Logger) ([]byte, error) {
	if f.masterKeyFile == "" {
		if v := os.Getenv("VIGIL_MASTER_KEY"); v != "" {
			k, err := secrets.ParseKey(v)
			if err != nil {
				return nil, fmt.Errorf("VIGIL_MASTER_KEY: %w", err)
			}
			return k, nil
		}
	}
	path := f.masterKeyFile
	if path == "" {
		path = filepath.Join(f.dataDir, "master.key")
	}
	key, created, err := secrets.LoadOrCreateKey(path)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("generated a new master key; back it up: without it stored credentials cannot be decrypted", "path", path)
	}
	return key, nil
}

func newServeCmd() *cobra.Command {
	var f serverFlags
	var listen, tlsCert, tlsKey, configFile string
	var secureCookies bool
	var trustedProxies []string
	var syncEvery time.Duration
	var sf syncFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Vigil server: agent API, REST API and web app",
		Long: `Run the Vigil server.

Data lives in SQLite under --data unless --db names a PostgreSQL database.
On first start it creates the default workspace and the user 'admin' and
prints the admin password once (or takes VIGIL_ADMIN_PASSWORD).

Every flag can also be given as VIGIL_<FLAG> (for example VIGIL_LISTEN) or
as a key in the --config YAML file (for example 'listen: :8443').`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnvAndFile(cmd.Flags(), configFile); err != nil {
				return err
			}
			if (tlsCert == "") != (tlsKey == "") {
				return errors.New("--tls-cert and --tls-key go together")
			}
			proxies, err := httpx.ParseProxies(trustedProxies)
			if err != nil {
				return fmt.Errorf("--trusted-proxy: %w", err)
			}
			ctx := cmd.Context()
			b, err := openBackend(ctx, &f, cmd.ErrOrStderr(), cmd.OutOrStdout())
			if err != nil {
				return err
			}
			defer b.Close()
			b.proxies = proxies
			if syncEvery > 0 {
				go scheduleFeedSync(ctx, b, &sf, f.dataDir, syncEvery)
			}
			// The settings page's "Sync feeds now" runs the same sync.
			b.svc.SetFeedSyncer(func(ctx context.Context) error {
				return syncFeeds(ctx, b, &sf, f.dataDir, &logWriter{log: b.log})
			})
			go b.svc.RunMaintenance(ctx) // rollups and retention, hourly
			return serveHTTP(ctx, b, listen, tlsCert, tlsKey, secureCookies || tlsCert != "", cmd.OutOrStdout(), nil)
		},
	}
	f.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&configFile, "config", "", "YAML file with flag values (keys are flag names with underscores)")
	fs.StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&tlsCert, "tls-cert", "", "TLS certificate file (PEM); serve HTTPS when set")
	fs.StringVar(&tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.BoolVar(&secureCookies, "secure-cookies", false, "mark session cookies Secure (automatic with --tls-cert; set it behind a TLS-terminating proxy)")
	fs.StringSliceVar(&trustedProxies, "trusted-proxy", nil, "reverse proxy addresses or CIDR ranges whose X-Forwarded-For (client IP in the audit log) and X-Forwarded-Proto: https (Secure cookies) are believed; repeat or separate with commas")
	fs.DurationVar(&syncEvery, "feeds-sync-interval", 0, "sync vulnerability feeds this often, e.g. 24h (0: never; use 'vigil feeds sync' or import)")
	sf.register(cmd)
	return cmd
}

// scheduleFeedSync syncs the feeds a minute after start and then every
// interval, logging the outcome. A failed feed keeps its previous data.
func scheduleFeedSync(ctx context.Context, b *backend, sf *syncFlags, dataDir string, every time.Duration) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b.log.Info("feed sync starting", "feeds", strings.Join(sf.only, ","))
		if err := syncFeeds(ctx, b, sf, dataDir, &logWriter{log: b.log}); err != nil && ctx.Err() == nil {
			b.log.Error("feed sync failed; the previous data stays in use", "err", err)
		}
		t.Reset(every)
	}
}

// logWriter turns each line written to it into an info log record.
type logWriter struct{ log *slog.Logger }

func (w *logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if strings.TrimSpace(line) != "" {
			w.log.Info("feed sync", "result", strings.TrimSpace(line))
		}
	}
	return len(p), nil
}

// serveHTTP runs the HTTP server until ctx ends, then shuts down gracefully.
// ready, when set, receives the bound address once listening.
func serveHTTP(ctx context.Context, b *backend, listen, tlsCert, tlsKey string, secureCookies bool, out io.Writer, ready chan<- string) error {
	webh, err := web.New(b.svc, b.log, web.Options{SecureCookies: secureCookies, TrustedProxies: b.proxies})
	if err != nil {
		return err
	}
	srv := server.New(b.svc, b.log, server.Options{Web: webh, TrustedProxies: b.proxies})
	stopJobs, err := startJobs(ctx, b)
	if err != nil {
		return err
	}
	// Deferred before the HTTP shutdown below returns: jobs stop after
	// the last request is answered.
	defer stopJobs()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(b.log.Handler(), slog.LevelWarn)}
	scheme := "http"
	if tlsCert != "" {
		scheme = "https"
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	addr := ln.Addr().String()
	b.log.Info("vigil server listening", "url", scheme+"://"+addr)
	if ready != nil {
		ready <- addr
	}
	errc := make(chan error, 1)
	go func() {
		if tlsCert != "" {
			errc <- hs.ServeTLS(ln, tlsCert, tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	go sweepSessions(ctx, b)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	b.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// sweepSessions deletes expired sessions hourly.
func sweepSessions(ctx context.Context, b *backend) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := b.store.DeleteExpiredSessions(ctx, time.Now().UTC()); err != nil && ctx.Err() == nil {
			b.log.Warn("delete expired sessions", "err", err)
		} else if n > 0 {
			b.log.Debug("expired sessions deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
