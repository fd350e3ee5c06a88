// Package gz reads feed files that may or may not be gzipped. Which one is
// told by the magic bytes, not the name: a proxy may already have unpacked a
// ".json.gz", and an operator may have saved a plain file under that name.
package gz

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
)

// Reader returns a buffered reader of r's content, gunzipped when r starts
// with the gzip magic bytes.
func Reader(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	}
	return br, nil
}
