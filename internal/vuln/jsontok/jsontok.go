// Package jsontok walks large JSON documents token by token, so that feed
// decoders can hold one record at a time instead of the whole file.
package jsontok

import (
	"encoding/json"
	"fmt"
	"io"
)

// ExpectDelim reads the next token and fails unless it is want. The end of
// input is reported as io.ErrUnexpectedEOF: a document cut short.
func ExpectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err == io.EOF {
		return fmt.Errorf("expected %q, got end of input: %w", want, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, got %v", want, tok)
	}
	return nil
}

// ReadKey reads an object key.
func ReadKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected an object key, got %v", tok)
	}
	return key, nil
}

// SkipValue discards one value token by token, so an unknown field costs
// no more memory than its largest scalar.
func SkipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
