package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Spool keeps reports on disk from the moment a scan ends until the server
// has accepted them, so a server outage or an agent restart loses nothing.
// Reports the server rejects for good move to rejected/ with the reason
// beside them, for an operator to look at.
type Spool struct {
	dir string
}

const spoolExt = ".json"

// OpenSpool creates the spool directory (mode 0700: reports describe hosts).
func OpenSpool(dir string) (*Spool, error) {
	if err := os.MkdirAll(filepath.Join(dir, "rejected"), 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &Spool{dir: dir}, nil
}

// Dir returns the spool directory.
func (s *Spool) Dir() string { return s.dir }

// Put writes a report atomically: a crash leaves either the whole file or
// only a temporary file that List ignores.
func (s *Spool) Put(r *inventory.HostReport) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("spool: encode report: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("spool: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("spool: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("spool: %w", err)
	}
	return os.Rename(tmp.Name(), s.path(r.ReportID))
}

func (s *Spool) path(id string) string { return filepath.Join(s.dir, id+spoolExt) }

// Entry is one spooled report file.
type Entry struct {
	ID   string
	Size int64
}

// List returns the spooled reports, oldest first.
func (s *Spool) List() ([]Entry, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	type item struct {
		Entry
		mod int64
	}
	var items []item
	for _, de := range des {
		name := de.Name()
		if de.IsDir() || !strings.HasSuffix(name, spoolExt) || strings.HasPrefix(name, ".") {
			continue
		}
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // pushed and removed meanwhile
		} else if err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		items = append(items, item{Entry{strings.TrimSuffix(name, spoolExt), info.Size()}, info.ModTime().UnixNano()})
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].mod != items[j].mod {
			return items[i].mod < items[j].mod
		}
		return items[i].ID < items[j].ID
	})
	out := make([]Entry, len(items))
	for i := range items {
		out[i] = items[i].Entry
	}
	return out, nil
}

// Read returns a spooled report's raw JSON.
func (s *Spool) Read(id string) ([]byte, error) {
	return os.ReadFile(s.path(id))
}

// Remove deletes a report the server has stored.
func (s *Spool) Remove(id string) error {
	err := os.Remove(s.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Reject moves a report the server refused for good out of the queue, with
// the reason in a .reason file beside it.
func (s *Spool) Reject(id, reason string) error {
	dst := filepath.Join(s.dir, "rejected", id+spoolExt)
	if err := os.Rename(s.path(id), dst); err != nil {
		return fmt.Errorf("spool: reject %s: %w", id, err)
	}
	return os.WriteFile(filepath.Join(s.dir, "rejected", id+".reason"), []byte(reason+"\n"), 0o600)
}
