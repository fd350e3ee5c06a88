package osv

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-project/vigil/internal/vuln"
)

// MaxRecordErrors caps ImportStats.Errors: a feed that is broken throughout
// should not turn into an error list as large as the feed. Skipped still
// counts every record.
const MaxRecordErrors = 100

// maxRecordBytes bounds one record. The largest real OSV records (kernel
// CVEs listing every affected Ubuntu build) are a few MB; the bound keeps a
// corrupt or hostile archive entry from being read without end.
const maxRecordBytes = 64 << 20

// RecordError is one record that could not be read. Path names the file,
// the entry inside an archive as archive/entry, or the element of a JSON
// array file as file[index].
type RecordError struct {
	Path string
	Err  error
}

func (e RecordError) Error() string { return e.Path + ": " + e.Err.Error() }

func (e RecordError) Unwrap() error { return e.Err }

// ImportStats says what a Walk read.
type ImportStats struct {
	Records int           // advisories handed to fn
	Skipped int           // malformed records, each reported in Errors up to MaxRecordErrors
	Errors  []RecordError // the first MaxRecordErrors of them
}

// Walk streams every OSV record under path to fn, one at a time. path may be
// a .json file (one record, or a JSON array of records), a .json.gz file, a
// .zip archive such as osv.dev's <Ecosystem>/all.zip (read entry by entry,
// never whole into memory), or a directory, walked in lexical order for
// files with those extensions (other files are ignored).
//
// A record that cannot be decoded is counted, reported in the returned
// stats and skipped: one bad advisory never stops an import. Walk stops
// early only when fn returns an error, which it returns wrapped, or when
// path itself cannot be read (including a zip whose directory is corrupt).
func Walk(path string, fn func(*vuln.Advisory) error) (ImportStats, error) {
	w := &walker{fn: fn}
	fi, err := os.Stat(path)
	if err != nil {
		return w.stats, fmt.Errorf("osv: walk: %w", err)
	}
	if !fi.IsDir() {
		err := w.file(path, true)
		return w.stats, err
	}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == path {
				return fmt.Errorf("osv: walk: %w", err)
			}
			// An unreadable subdirectory or file is a gap in the import,
			// not a reason to abandon the rest of it.
			w.bad(p, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		return w.file(p, false)
	})
	return w.stats, err
}

type walker struct {
	fn    func(*vuln.Advisory) error
	stats ImportStats
}

// callbackError marks an error from fn so it is returned, not skipped.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }
func (e *callbackError) Unwrap() error { return e.err }

func (w *walker) bad(path string, err error) {
	w.stats.Skipped++
	if len(w.stats.Errors) < MaxRecordErrors {
		w.stats.Errors = append(w.stats.Errors, RecordError{Path: path, Err: err})
	}
}

// emit hands one decoded advisory to fn.
func (w *walker) emit(path string, a *vuln.Advisory) error {
	if err := w.fn(a); err != nil {
		return &callbackError{fmt.Errorf("osv: %s: %w", path, err)}
	}
	w.stats.Records++
	return nil
}

// file reads one file by its extension. explicit is true for the path Walk
// was given: that one is read as JSON whatever its name, while files met in
// a directory walk must look like OSV data.
func (w *walker) file(path string, explicit bool) error {
	var err error
	name := strings.ToLower(filepath.Base(path))
	switch {
	case strings.HasSuffix(name, ".zip"):
		err = w.zip(path)
	case strings.HasSuffix(name, ".json.gz"):
		err = w.gzip(path)
	case strings.HasSuffix(name, ".json") || explicit:
		err = w.plain(path)
	default:
		return nil
	}
	if ce := (*callbackError)(nil); errors.As(err, &ce) {
		return ce.err
	}
	if err != nil && explicit {
		return err
	}
	if err != nil {
		w.bad(path, err)
	}
	return nil
}

func (w *walker) plain(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("osv: %w", err)
	}
	defer f.Close()
	return w.stream(path, f)
}

func (w *walker) gzip(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("osv: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		w.bad(path, fmt.Errorf("gunzip: %w", err))
		return nil
	}
	defer zr.Close()
	return w.stream(path, zr)
}

// zip reads an archive entry by entry. archive/zip reads only the central
// directory up front; each entry is decompressed as it is decoded.
func (w *walker) zip(path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("osv: open %s: %w", path, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.HasSuffix(strings.ToLower(f.Name), ".json") {
			continue
		}
		entry := path + "/" + f.Name
		if err := w.zipEntry(entry, f); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) zipEntry(entry string, f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		w.bad(entry, err)
		return nil
	}
	defer rc.Close()
	a, err := Decode(limitReader(rc))
	if err != nil {
		w.bad(entry, err)
		return nil
	}
	// The decoder stops at the end of the JSON value; reading to EOF lets
	// archive/zip verify the entry's CRC before the record is trusted.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		w.bad(entry, err)
		return nil
	}
	return w.emit(entry, a)
}

// stream decodes a file holding either one record or a JSON array of them.
// Array elements are read one at a time, so a large array costs the memory
// of its largest element.
func (w *walker) stream(path string, r io.Reader) error {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err != nil {
		w.bad(path, err)
		return nil
	}
	if first != '[' {
		a, err := Decode(limitReader(br))
		if err != nil {
			w.bad(path, err)
			return nil
		}
		return w.emit(path, a)
	}
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil { // the '['
		w.bad(path, err)
		return nil
	}
	for i := 0; dec.More(); i++ {
		elem := fmt.Sprintf("%s[%d]", path, i)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// A syntax error leaves the decoder lost: the rest of the
			// file cannot be read reliably.
			w.bad(elem, fmt.Errorf("osv: decode: %w", err))
			return nil
		}
		var rec record
		if err := json.Unmarshal(raw, &rec); err != nil {
			w.bad(elem, fmt.Errorf("osv: decode: %w", err))
			continue
		}
		a, err := convert(&rec)
		if err != nil {
			w.bad(elem, err)
			continue
		}
		if err := w.emit(elem, a); err != nil {
			return err
		}
	}
	return nil
}

func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, errors.New("osv: empty file")
			}
			return 0, fmt.Errorf("osv: read: %w", err)
		}
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			return b, br.UnreadByte()
		}
	}
}

// limitReader fails, rather than truncates, past maxRecordBytes.
func limitReader(r io.Reader) io.Reader { return &limited{r: r, n: maxRecordBytes} }

type limited struct {
	r io.Reader
	n int64
}

var errTooLarge = fmt.Errorf("osv: record larger than %d bytes", maxRecordBytes)

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// At the limit: only more data makes it too large.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
