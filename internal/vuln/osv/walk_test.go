package osv

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/vuln"
)

type zipEntry struct{ name, body string }

// writeZip builds an archive like osv.dev's all.zip: one <ID>.json per
// record, deflated.
func writeZip(t testing.TB, path string, entries []zipEntry) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixtureEntries returns the testdata advisories of dir as archive entries
// named by advisory ID.
func fixtureEntries(t testing.TB, dir string) []zipEntry {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s: %v", dir, err)
	}
	var out []zipEntry
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		a, err := Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, zipEntry{a.ID + ".json", string(data)})
	}
	return out
}

func walkAll(t *testing.T, path string) ([]string, ImportStats) {
	t.Helper()
	var ids []string
	stats, err := Walk(path, func(a *vuln.Advisory) error {
		ids = append(ids, a.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk(%s): %v", path, err)
	}
	if stats.Records != len(ids) {
		t.Errorf("stats.Records = %d, fn saw %d", stats.Records, len(ids))
	}
	return ids, stats
}

func TestWalkFile(t *testing.T) {
	ids, stats := walkAll(t, "testdata/almalinux/ALSA-2024-8793.json")
	if !slices.Equal(ids, []string{"ALSA-2024:8793"}) || stats.Skipped != 0 {
		t.Errorf("ids %v stats %+v", ids, stats)
	}
}

// TestWalkDir walks testdata itself: ten advisories, while LICENSE,
// README.md and the fuzz corpora are not JSON and are ignored.
func TestWalkDir(t *testing.T) {
	ids, stats := walkAll(t, "testdata")
	if len(ids) != 10 || stats.Skipped != 0 {
		t.Errorf("%d records %v, stats %+v", len(ids), ids, stats)
	}
	if !slices.Contains(ids, "UBUNTU-CVE-2025-38094") || !slices.Contains(ids, "ALSA-2025:10873") {
		t.Errorf("ids = %v", ids)
	}
}

func TestWalkZip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "all.zip")
	entries := fixtureEntries(t, "almalinux")
	entries = append(entries,
		zipEntry{"BROKEN-1.json", `{"id": "BROKEN-1", "affected": [`},
		zipEntry{"README.txt", "not a record"},
		zipEntry{"sub/", ""})
	writeZip(t, path, entries)
	ids, stats := walkAll(t, path)
	if len(ids) != 6 || stats.Skipped != 1 || len(stats.Errors) != 1 {
		t.Fatalf("ids %v stats %+v", ids, stats)
	}
	if e := stats.Errors[0]; e.Path != path+"/BROKEN-1.json" || !strings.Contains(e.Error(), "BROKEN-1.json: osv: decode") {
		t.Errorf("error = %q (path %q)", e.Error(), e.Path)
	}
}

// TestWalkZipCorruptEntry flips bytes inside one deflated entry: that entry
// is reported (bad data or checksum), the others still import.
func TestWalkZipCorruptEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "all.zip")
	entries := fixtureEntries(t, "almalinux")
	writeZip(t, path, entries)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	f := zr.File[2]
	off, err := f.DataOffset()
	if err != nil {
		t.Fatal(err)
	}
	for i := off + 20; i < off+40; i++ {
		data[i] ^= 0x5a
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ids, stats := walkAll(t, path)
	if len(ids) != 5 || stats.Skipped != 1 || !strings.Contains(stats.Errors[0].Path, f.Name) {
		t.Errorf("ids %v stats %+v", ids, stats)
	}
}

func TestWalkGzipAndArray(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	data, err := os.ReadFile("testdata/debian/DSA-3029-1.json")
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(data)
	zw.Close()
	os.WriteFile(filepath.Join(dir, "DSA-3029-1.json.gz"), gz.Bytes(), 0o644)
	// A JSON array file: a type error in one element skips that element
	// only.
	os.WriteFile(filepath.Join(dir, "many.json"), []byte(` [{"id": "A-1"}, {"id": 2}, {"id": "A-3", "modified": "never"}, {"id": "A-4"}]`), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.json.gz"), []byte("not gzip"), 0o644)
	ids, stats := walkAll(t, dir)
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"A-1", "A-4", "DSA-3029-1"}) || stats.Skipped != 3 {
		t.Fatalf("ids %v stats %+v", ids, stats)
	}
	var paths []string
	for _, e := range stats.Errors {
		paths = append(paths, filepath.Base(e.Path))
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"bad.json.gz", "many.json[1]", "many.json[2]"}) {
		t.Errorf("error paths = %v", paths)
	}
}

// TestWalkCapsErrors: every malformed record is counted, the first
// MaxRecordErrors are listed, and none stops the import.
func TestWalkCapsErrors(t *testing.T) {
	dir := t.TempDir()
	for i := range MaxRecordErrors + 50 {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("bad-%03d.json", i)), []byte(`{"summary": "no id"}`), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "zz-good.json"), []byte(`{"id": "GOOD-1"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "empty.json"), nil, 0o644)
	ids, stats := walkAll(t, dir)
	if !slices.Equal(ids, []string{"GOOD-1"}) || stats.Skipped != MaxRecordErrors+51 || len(stats.Errors) != MaxRecordErrors {
		t.Errorf("ids %v skipped %d errors %d", ids, stats.Skipped, len(stats.Errors))
	}
}

func TestWalkStopsOnCallbackError(t *testing.T) {
	stop := errors.New("store full")
	n := 0
	stats, err := Walk("testdata/almalinux", func(*vuln.Advisory) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 || stats.Records != 1 {
		t.Errorf("err %v after %d calls, stats %+v", err, n, stats)
	}
	path := filepath.Join(t.TempDir(), "all.zip")
	writeZip(t, path, fixtureEntries(t, "almalinux"))
	if _, err := Walk(path, func(*vuln.Advisory) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("zip: err = %v", err)
	}
}

func TestWalkUnreadable(t *testing.T) {
	if _, err := Walk(filepath.Join(t.TempDir(), "missing"), func(*vuln.Advisory) error { return nil }); err == nil {
		t.Error("missing path: no error")
	}
	notZip := filepath.Join(t.TempDir(), "all.zip")
	os.WriteFile(notZip, []byte("<html>error</html>"), 0o644)
	if _, err := Walk(notZip, func(*vuln.Advisory) error { return nil }); err == nil {
		t.Error("corrupt zip given directly: no error")
	}
}
