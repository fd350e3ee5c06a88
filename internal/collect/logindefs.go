package collect

import (
	"errors"
	"strings"
)

// login_defs is /etc/login.defs as shadow's tools read it:
//
//	{"PASS_MAX_DAYS":"99999","PASS_MIN_DAYS":"0","PASS_WARN_AGE":"7","UMASK":"022","ENCRYPT_METHOD":"SHA512",...}
//
// Keys are kept as written; when a key appears twice the last one wins, as in
// shadow's getdef; surrounding double quotes are removed. A host without the
// file (Alpine without shadow) gets the cat error.
var loginDefsItem = itemProbe{
	name:    "login_defs",
	command: "cat /etc/login.defs",
	parse:   func(out []byte) (any, error) { return ParseLoginDefs(out) },
}

// ParseLoginDefs reads "KEY value" lines; comments and lines whose key is not
// a name are skipped. An empty file is an empty map.
func ParseLoginDefs(out []byte) (map[string]string, error) {
	m := map[string]string{}
	ls := lines(string(out), true)
	for _, l := range ls {
		f := strings.Fields(l)
		if !isShellName(f[0]) {
			continue
		}
		v := strings.TrimSpace(strings.TrimPrefix(l, f[0]))
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		m[f[0]] = v
	}
	if len(m) == 0 && len(ls) > 0 {
		return nil, errors.New("parse login_defs: no KEY value line in output")
	}
	return m, nil
}
