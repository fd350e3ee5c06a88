package sapnotes

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// CSV columns, matched case-insensitively by header name; only
// note_number, title and priority are required. A note may take several
// rows, one per affected software component: rows with the same note
// number are merged, and the note's own fields are taken from its first
// row. List cells (cve_ids, versions, product_names) are separated by ';',
// ',' or spaces.
//
//	note_number,title,priority,cve_ids,cvss_score,cvss_vector,category,
//	component,released_on,note_url,kev_listed,product_names,
//	software_component,versions,fixed_level,versions_unparsed
//
// fixed_level (a Vigil extension, e.g. "SP0012" or "PL1200") applies to
// every version of its row.
var csvColumns = []string{
	"note_number", "title", "priority", "cve_ids", "cvss_score", "cvss_vector", "category",
	"component", "released_on", "note_url", "kev_listed", "product_names",
	"software_component", "versions", "fixed_level", "versions_unparsed",
}

// DecodeCSV reads a CSV catalogue and calls fn per valid note, in the
// order notes first appear. Rows are grouped in memory by note number
// (a CSV export is a few thousand rows at most). A row or note that cannot
// be used is skipped and listed in Result.Errors with its data row number
// (the header is row 0).
func DecodeCSV(r io.Reader, fn func(*Note) error) (Result, error) {
	var res Result
	in, err := maybeGunzip(r)
	if err != nil {
		return res, fmt.Errorf("sapnotes: decode CSV: %w", err)
	}
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return res, fmt.Errorf("sapnotes: decode CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		col[h] = i
	}
	for _, need := range []string{"note_number", "title", "priority"} {
		if _, ok := col[need]; !ok {
			return res, fmt.Errorf("sapnotes: decode CSV: no %q column (columns: %s)", need, strings.Join(csvColumns, ","))
		}
	}
	type pending struct {
		rec     record
		scoreOK bool
		row     int
		err     error
	}
	var order []string
	notes := map[string]*pending{}
	for row := 1; ; row++ {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrQuote) && !errors.Is(pe.Err, csv.ErrBareQuote) {
			return res, fmt.Errorf("sapnotes: decode CSV: %w", err)
		}
		if err != nil {
			res.Seen++
			res.skip(row, "", err)
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(fields) {
				return strings.TrimSpace(fields[i])
			}
			return ""
		}
		num := get("note_number")
		p, ok := notes[num]
		if !ok {
			res.Seen++
			p = &pending{row: row}
			notes[num] = p
			order = append(order, num)
			p.rec.NoteNumber = []byte(strconv.Quote(num))
			p.rec.Title = get("title")
			p.rec.Priority = get("priority")
			p.rec.CVEIDs = splitList(get("cve_ids"))
			if s := get("cvss_score"); s != "" {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					p.err = fmt.Errorf("cvss_score %q is not a number", s)
				}
				p.rec.CVSSScore = &f
			}
			for name, dst := range map[string]**string{"cvss_vector": &p.rec.CVSSVector, "category": &p.rec.Category,
				"component": &p.rec.Component, "released_on": &p.rec.ReleasedOn, "versions_unparsed": &p.rec.VersionsUnparsed} {
				if s := get(name); s != "" {
					*dst = &s
				}
			}
			p.rec.NoteURL = get("note_url")
			p.rec.ProductNames = splitProducts(get("product_names"))
			if s := get("kev_listed"); s != "" {
				b, err := strconv.ParseBool(s)
				if err != nil && p.err == nil {
					p.err = fmt.Errorf("kev_listed %q is not true or false", s)
				}
				p.rec.KEVListed = b
			}
		}
		comp, versions := get("software_component"), splitList(get("versions"))
		if comp == "" && len(versions) == 0 {
			continue
		}
		a := Affected{Component: comp, Versions: versions}
		if lvl := get("fixed_level"); lvl != "" {
			a.Fixed = map[string]string{}
			for _, v := range versions {
				a.Fixed[v] = lvl
			}
		}
		p.rec.Affected = append(p.rec.Affected, a)
	}
	for _, num := range order {
		p := notes[num]
		var n *Note
		err := p.err
		if err == nil {
			n, err = p.rec.toNote()
		}
		if err != nil {
			res.skip(p.row, num, err)
			continue
		}
		res.warn(n)
		if err := fn(n); err != nil {
			return res, fmt.Errorf("sapnotes: callback for note %s: %w", n.Number, err)
		}
		res.Delivered++
	}
	// Parse errors were listed as read, note errors after: one order.
	sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Index < res.Errors[j].Index })
	return res, nil
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// splitProducts splits on ';' only: product names contain commas and spaces.
func splitProducts(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
