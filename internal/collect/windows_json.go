package collect

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Decoding what PowerShell's ConvertTo-Json prints, across versions:
//
//   - a pipeline of one object prints that object, not a one-element array,
//     and an empty pipeline prints nothing at all (psList);
//   - Windows PowerShell 5.1 writes DateTime as "\/Date(1681171200000)\/",
//     sometimes wrapped as {"value": "\/Date(...)\/", "DateTime": "..."};
//     PowerShell 7 writes ISO 8601; registry dates are "20230415" (psTime);
//   - enums are numbers in 5.1 and may be strings in 7; booleans sometimes
//     come as 0/1 or "True" (psBool, psInt);
//   - the bytes may carry a UTF-8 BOM, be UTF-16LE when the console was not
//     switched to UTF-8, or, on very old hosts, be in the ANSI code page
//     (psText).

// psText returns out as UTF-8 without BOM.
func psText(out []byte) []byte {
	switch {
	case bytes.HasPrefix(out, []byte{0xEF, 0xBB, 0xBF}):
		return out[3:]
	case bytes.HasPrefix(out, []byte{0xFF, 0xFE}):
		return utf16Bytes(out[2:], binary.LittleEndian)
	case bytes.HasPrefix(out, []byte{0xFE, 0xFF}):
		return utf16Bytes(out[2:], binary.BigEndian)
	case len(out) >= 4 && out[1] == 0 && out[3] == 0 && out[0] != 0:
		return utf16Bytes(out, binary.LittleEndian)
	case !utf8.Valid(out):
		// Windows-1252 is what an English or Western European host's
		// ANSI code page makes of a name like "Müller".
		if b, err := charmap.Windows1252.NewDecoder().Bytes(out); err == nil {
			return b
		}
	}
	return out
}

func utf16Bytes(b []byte, order binary.ByteOrder) []byte {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = order.Uint16(b[2*i:])
	}
	return []byte(string(utf16.Decode(u)))
}

// psUnmarshal decodes a probe's JSON output into v. Empty output (an empty
// pipeline) leaves v untouched and is not an error.
func psUnmarshal(out []byte, v any) error {
	out = bytes.TrimSpace(psText(out))
	if len(out) == 0 {
		return nil
	}
	if err := json.Unmarshal(out, v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("not JSON at byte %d: %v", se.Offset, err)
		}
		return err
	}
	return nil
}

// psList is a JSON array, a single element (ConvertTo-Json's one-object
// pipeline) or null.
type psList[T any] []T

func (l *psList[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*l = nil
		return nil
	case len(b) > 0 && b[0] == '[':
		var s []T
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = s
		return nil
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*l = psList[T]{one}
	return nil
}

// psString is a string that may arrive as a number or bool (a registry
// DisplayVersion of 10 is a DWORD), or null.
type psString string

func (s *psString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = psString(strings.TrimSpace(v))
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		*s = "" // an object where a string was expected: treat as missing
	default:
		*s = psString(b)
	}
	return nil
}

// psBool accepts true/false, numbers (non-zero is true) and the strings
// "True", "False", "1", "0", "Yes", "No", "Enabled", "Disabled", and null
// (false).
type psBool bool

func (p *psBool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "enabled", "on":
		*p = true
		return nil
	case "false", "no", "disabled", "off", "null", "", "notconfigured":
		*p = false
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a boolean: %.40q", s)
	}
	*p = f != 0
	return nil
}

// psInt accepts numbers, numeric strings and null (0). Values beyond int64
// (a UInt64 MaxValue sentinel) are clamped.
type psInt int64

func (p *psInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	if s == "null" || s == "" {
		*p = 0
		return nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*p = psInt(i)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return fmt.Errorf("not a number: %.40q", s)
	}
	switch {
	case f >= math.MaxInt64:
		*p = math.MaxInt64
	case f <= math.MinInt64:
		*p = math.MinInt64
	default:
		*p = psInt(f)
	}
	return nil
}

// psTime is a point in time in any of PowerShell's spellings; anything
// unreadable (vendors write registry dates as they please) is the zero time,
// not an error: a missing install date must not cost the software list.
type psTime struct{ time.Time }

var msDateRE = regexp.MustCompile(`^/Date\((-?\d+)([+-]\d{4})?\)/$`)

func (t *psTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	t.Time = time.Time{}
	switch {
	case len(b) > 0 && b[0] == '{':
		// Windows PowerShell 5.1 wraps a DateTime that carries
		// PowerShell notes: {"value": "\/Date(...)\/", "DateTime": "..."}.
		var w struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(b, &w); err != nil || len(w.Value) == 0 {
			return nil
		}
		return t.UnmarshalJSON(w.Value)
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil
		}
		t.Time = parsePSTime(s)
	case len(b) > 0 && b[0] >= '0' && b[0] <= '9':
		t.Time = parsePSTime(string(b)) // a registry DWORD 20230415
	}
	return nil
}

// parsePSTime reads the date spellings seen in PowerShell output and the
// Uninstall keys' InstallDate; the zero time when none fits.
func parsePSTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if m := msDateRE.FindStringSubmatch(s); m != nil {
		ms, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return time.Time{}
		}
		// The offset, when present, only says which zone the value was
		// local to; the milliseconds are UTC already.
		tm := time.UnixMilli(ms).UTC()
		if tm.Year() < 1980 || tm.Year() > 2200 {
			return time.Time{} // DateTime.MinValue and other sentinels
		}
		return tm
	}
	layouts := []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.9999999",
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
		"2006-01-02",
		"20060102",
		"02.01.2006", // German vendors' InstallDate
		"1/2/2006",   // Win32_QuickFixEngineering's raw InstalledOn, en-US
		"1/2/2006 3:04:05 PM",
		"2006/01/02",
	}
	for _, l := range layouts {
		if tm, err := time.Parse(l, s); err == nil {
			if tm.Year() < 1980 || tm.Year() > 2200 {
				return time.Time{}
			}
			return tm.UTC()
		}
	}
	return time.Time{}
}
