package sapnotes

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

// BenchmarkMatchAll matches the 130-note sample catalogue against 100
// ABAP systems: the work of re-matching a mid-size SAP landscape after a
// catalogue import.
func BenchmarkMatchAll(b *testing.B) {
	notes, _ := decodeSample(b)
	systems := make([]inventory.SAPSystem, 100)
	for i := range systems {
		systems[i] = abapSystem()
		systems[i].SID = fmt.Sprintf("S%02d", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ms := MatchAll(notes, systems); len(ms) == 0 {
			b.Fatal("no matches")
		}
	}
}

// BenchmarkDecode decodes the sample catalogue (gzipped, 130 notes).
func BenchmarkDecode(b *testing.B) {
	raw, err := os.ReadFile("testdata/notes_catalog.json.gz")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(raw), func(*Note) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
