package collect

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

var hdbVersionRE = regexp.MustCompile(`(?m)^\s*(?:version|fullversion|release):\s*(\d+\.\d+\.\d+(?:\.\d+)*)`)

// ParseHDBVersion reads `HDB version` ("HDB version info:" then
// "version: 2.00.059.04.1660047386") or the HANA manifest file
// ("fullversion: 2.00.059.04.1660047386 Build ..."). Release is the
// first two parts (2.00), Level the revision (059).
func ParseHDBVersion(b []byte) (*inventory.SAPDatabase, error) {
	if err := sapCommandError(b); err != nil {
		return nil, fmt.Errorf("parse HDB version: %w", err)
	}
	m := hdbVersionRE.FindSubmatch(b)
	if m == nil {
		return nil, errors.New("parse HDB version: no version line")
	}
	v := string(m[1])
	parts := strings.Split(v, ".")
	db := &inventory.SAPDatabase{Product: "HANA", Type: "hdb", Version: v, Release: parts[0] + "." + parts[1]}
	if len(parts) > 2 {
		db.Level = parts[2]
	}
	return db, nil
}

var (
	aseDirRE    = regexp.MustCompile(`^ASE-(\d+)_(\d+)$`)
	oracleDirRE = regexp.MustCompile(`^(\d+)(?:\.(\d+))?(?:\.\d+)*$`)
)

// ParseSAPDBDir reads a database version from the name of its software
// directory, the only place it can be read without database credentials:
// /sybase/<SID>/ASE-16_0 is SAP ASE 16.0, /oracle/<SID>/19.0.0 (or 121,
// the old spelling of 12.1) is Oracle.
func ParseSAPDBDir(dir string) (*inventory.SAPDatabase, bool) {
	base := path.Base(dir)
	switch {
	case strings.Contains(dir, "/sybase/"):
		m := aseDirRE.FindStringSubmatch(base)
		if m == nil {
			return nil, false
		}
		v := m[1] + "." + m[2]
		return &inventory.SAPDatabase{Product: "ASE", Type: "syb", Version: v, Release: v, Source: "directory " + dir}, true
	case strings.Contains(dir, "/oracle/"):
		m := oracleDirRE.FindStringSubmatch(base)
		if m == nil {
			return nil, false
		}
		rel := m[1]
		if m[2] == "" && len(rel) == 3 {
			rel = rel[:2] + "." + rel[2:] // 121 -> 12.1, 112 -> 11.2
		}
		return &inventory.SAPDatabase{Product: "Oracle", Type: "ora", Version: base, Release: rel, Source: "directory " + dir}, true
	}
	return nil, false
}

// dbProduct names the product of a dbms/type profile value.
func dbProduct(t string) string {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "hdb":
		return "HANA"
	case "syb":
		return "ASE"
	case "ora":
		return "Oracle"
	case "ada", "sdb":
		return "MaxDB"
	case "db6", "db2", "db4":
		return "Db2"
	case "mss":
		return "MSSQL"
	}
	return strings.ToUpper(t)
}
