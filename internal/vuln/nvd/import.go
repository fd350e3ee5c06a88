package nvd

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/gz"
)

// Stats sums up an ImportFile run.
type Stats struct {
	Files   int           // files read
	Records int           // records handed to the callback
	Skipped int           // malformed records skipped
	Errors  []RecordError // the first MaxRecordErrors skipped records, with File set
}

func (s *Stats) add(file string, p Page) {
	s.Records += p.Records
	s.Skipped += p.Skipped
	for _, e := range p.Errors {
		if len(s.Errors) == MaxRecordErrors {
			break
		}
		e.File = file
		s.Errors = append(s.Errors, e)
	}
}

// ImportFile imports an NVD 2.0 feed file, API page or single-record file,
// gzipped or not (told by the magic bytes, not the name), calling fn per
// record. Given a directory it imports every *.json and *.json.gz below it
// in lexical order, which covers both a folder of yearly feeds and a
// records/ mirror (CVE-2024/CVE-2024-63xx/CVE-2024-6387.json).
//
// Malformed records are skipped and listed in Stats.Errors. A file that is
// not valid JSON outside its records, or cannot be read, stops the import
// with an error naming it; everything before it has been delivered and is
// counted in the returned Stats.
func ImportFile(path string, fn func(*vuln.CVE) error) (Stats, error) {
	var st Stats
	info, err := os.Stat(path)
	if err != nil {
		return st, fmt.Errorf("nvd: import: %w", err)
	}
	if !info.IsDir() {
		return st, importOne(path, fn, &st)
	}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isFeedName(d.Name()) {
			return nil
		}
		return importOne(p, fn, &st)
	})
	if err != nil {
		// importOne's errors already say "nvd: import FILE"; WalkDir's own
		// (unreadable directory) do not.
		if !strings.HasPrefix(err.Error(), "nvd: ") {
			err = fmt.Errorf("nvd: import %s: %w", path, err)
		}
		return st, err
	}
	return st, nil
}

func isFeedName(name string) bool {
	return !strings.HasPrefix(name, ".") &&
		(strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".json.gz"))
}

func importOne(path string, fn func(*vuln.CVE) error, st *Stats) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("nvd: import: %w", err)
	}
	defer f.Close()
	r, err := Open(f)
	if err != nil {
		return fmt.Errorf("nvd: import %s: %w", path, err)
	}
	st.Files++
	p, err := DecodeStream(r, fn)
	st.add(path, p)
	if err != nil {
		return fmt.Errorf("nvd: import %s: %w", path, err)
	}
	return nil
}

// Open returns a reader of the JSON in r, gunzipping it when it starts with
// the gzip magic bytes, so ".json.gz" names that were already unpacked by
// a proxy (or plain files saved with .gz) both work.
func Open(r io.Reader) (io.Reader, error) { return gz.Reader(r) }
