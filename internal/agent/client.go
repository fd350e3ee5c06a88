package agent

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/version"
)

// Client talks to the server's agent API.
type Client struct {
	base string
	key  string
	http *http.Client
}

// NewClient builds a client; caFile, when set, replaces the system roots.
func NewClient(cfg *Config) (*Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificates found", cfg.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &Client{base: strings.TrimRight(cfg.APIURL, "/"), key: cfg.APIKey,
		http: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}, nil
}

// APIError is a non-2xx answer from the server.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("server answered %d", e.Status)
	}
	return fmt.Sprintf("server answered %d: %s", e.Status, e.Message)
}

// Permanent reports whether retrying the same request cannot succeed.
func (e *APIError) Permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests && e.Status != http.StatusRequestTimeout
}

// IsUnauthorized reports whether err is a refused API key.
func IsUnauthorized(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusUnauthorized
}

func (c *Client) do(req *http.Request) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("User-Agent", "vigil-agent/"+version.String())
	req.Header.Set("X-Vigil-Agent-Version", version.String())
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach %s: %w", c.base, err)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		ae := &APIError{Status: resp.StatusCode}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10)); json.Unmarshal(b, &body) == nil {
			ae.Code, ae.Message = body.Error.Code, body.Error.Message
		}
		return nil, ae
	}
	return resp, nil
}

// FetchConfig gets the agent's config. With a matching etag the server
// answers 304 and FetchConfig returns (nil, etag, nil).
func (c *Client) FetchConfig(ctx context.Context, etag string) (*inventory.AgentConfig, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/agent/config", nil)
	if err != nil {
		return nil, "", err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return nil, etag, nil
	}
	var cfg inventory.AgentConfig
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&cfg); err != nil {
		return nil, "", fmt.Errorf("decode agent config: %w", err)
	}
	if cfg.SchemaVersion != inventory.SchemaVersion {
		return nil, "", fmt.Errorf("server speaks agent config schema %d, this agent %d: upgrade the agent", cfg.SchemaVersion, inventory.SchemaVersion)
	}
	return &cfg, resp.Header.Get("ETag"), nil
}

// PushRaw sends already-encoded reports (JSON objects) as one gzip batch.
func (c *Client) PushRaw(ctx context.Context, reports [][]byte) (*inventory.BatchReply, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"reports":[`))
	for i, r := range reports {
		if i > 0 {
			zw.Write([]byte{','})
		}
		zw.Write(r)
	}
	zw.Write([]byte(`]}`))
	if err := zw.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/agent/reports", &buf)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var reply inventory.BatchReply
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&reply); err != nil {
		return nil, fmt.Errorf("decode push reply: %w", err)
	}
	if len(reply.Results) != len(reports) {
		return nil, fmt.Errorf("push reply has %d results for %d reports", len(reply.Results), len(reports))
	}
	return &reply, nil
}

// PostStatus tells the server about the agent and its last scan run.
func (c *Client) PostStatus(ctx context.Context, st *inventory.AgentStatus) error {
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/agent/status", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
