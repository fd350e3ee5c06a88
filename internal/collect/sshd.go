package collect

import (
	"errors"
	"path"
	"sort"
	"strings"
)

// sshdCommand prints /etc/ssh/sshd_config and every file its Include
// directives name, each after a "==> PATH <==" header ("(missing)" or
// "(unreadable)" after the header when it cannot be printed). It follows
// Includes in included files too (the RHEL crypto-policy include), at most 64
// files. Include arguments are expanded by the shell from /etc/ssh, as sshd
// resolves relative ones, without eval: content of the host's config is only
// ever split into words and globbed, never run. Files named *_key (host
// private keys) are never printed, whatever an Include says. Which file comes
// first is decided by ParseSSHD, not by this order.
const sshdCommand = `cd /etc/ssh 2>/dev/null; set -- /etc/ssh/sshd_config; seen=' '; n=0; ` +
	`while [ $# -gt 0 ] && [ $n -lt 64 ]; do f=$1; shift; n=$((n+1)); ` +
	`case $f in /*) ;; *) f=/etc/ssh/$f;; esac; case $f in *_key) continue;; esac; ` +
	`case $seen in *" $f "*) continue;; esac; seen="$seen$f "; ` +
	`if [ ! -e "$f" ]; then echo "==> $f <== (missing)"; ` +
	`elif [ ! -r "$f" ]; then echo "==> $f <== (unreadable)"; ` +
	`elif [ -f "$f" ]; then echo "==> $f <=="; cat -- "$f"; echo; ` +
	`set -- "$@" $(sed -n 's/^[[:space:]]*[Ii][Nn][Cc][Ll][Uu][Dd][Ee][[:space:]=][[:space:]=]*\([^#]*\).*/\1/p' "$f"); fi; ` +
	`done; true`

const sshdConfigPath = "/etc/ssh/sshd_config"

// sshd is the effective global sshd configuration, read from the config
// files without root and without running sshd -T:
//
//	{"present":true,"readable":true,
//	 "settings":{"permitrootlogin":"no","passwordauthentication":"yes","allowusers":"alice bob",...},
//	 "values":{"allowusers":["alice","bob"],"hostkey":[...],"subsystem":["sftp /usr/lib/openssh/sftp-server"]},
//	 "sources":{"permitrootlogin":"/etc/ssh/sshd_config.d/50-local.conf",...},
//	 "defaults_applied":["ciphers","loglevel",...],
//	 "has_match_blocks":false,"files":["/etc/ssh/sshd_config",...],"unreadable":[...]}
//
// Keywords are lower-cased and the first value of a keyword wins, in the
// order sshd reads the files (an Include is read where it stands). Keywords
// that accumulate (AllowUsers, HostKey, Port, ...) join every occurrence,
// space-separated, in settings and list them in values. Match blocks are
// skipped; has_match_blocks says there was one. Enumerated values (yes, no,
// prohibit-password, ...) are lower-cased, without-password becomes
// prohibit-password and LogLevel is upper-cased. OpenSSH's built-in defaults
// fill the keywords checks use that no file sets (the cipher, MAC and key
// exchange lists are those of OpenSSH 9.2 as Debian 12 builds it). A host
// whose configuration the scan user cannot read entirely needs privilege.
var sshdItem = itemProbe{
	name:    "sshd",
	command: sshdCommand,
	parse: func(out []byte) (any, error) {
		c, err := ParseSSHD(out)
		if err == nil && c.Present && !c.Readable {
			return nil, &privilegeError{"sshd configuration not readable by the scan user: " + strings.Join(c.Unreadable, ", ")}
		}
		return c, err
	},
}

// SSHDConfig is the value of the sshd probe.
type SSHDConfig struct {
	Present         bool                `json:"present"`
	Readable        bool                `json:"readable"`
	Settings        map[string]string   `json:"settings"`
	Values          map[string][]string `json:"values"`
	Sources         map[string]string   `json:"sources"`
	DefaultsApplied []string            `json:"defaults_applied"`
	HasMatchBlocks  bool                `json:"has_match_blocks"`
	Files           []string            `json:"files"`
	Unreadable      []string            `json:"unreadable,omitempty"`
}

// sshdDefaults are OpenSSH's compiled-in values (7.0 and later) for the
// keywords checks look at.
var sshdDefaults = map[string]string{
	"permitrootlogin":              "prohibit-password",
	"passwordauthentication":       "yes",
	"permitemptypasswords":         "no",
	"x11forwarding":                "no",
	"maxauthtries":                 "6",
	"maxsessions":                  "10",
	"maxstartups":                  "10:30:100",
	"clientaliveinterval":          "0",
	"clientalivecountmax":          "3",
	"logingracetime":               "120",
	"hostbasedauthentication":      "no",
	"ignorerhosts":                 "yes",
	"pubkeyauthentication":         "yes",
	"kbdinteractiveauthentication": "yes",
	"gssapiauthentication":         "no",
	"usepam":                       "no",
	"permituserenvironment":        "no",
	"allowtcpforwarding":           "yes",
	"disableforwarding":            "no",
	"banner":                       "none",
	"loglevel":                     "INFO",
	"ciphers":                      "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
	"macs":                         "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
	"kexalgorithms":                "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
}

// sshdMulti are the keywords whose occurrences add up rather than the first
// winning.
var sshdMulti = map[string]bool{
	"allowusers": true, "denyusers": true, "allowgroups": true, "denygroups": true,
	"hostkey": true, "hostcertificate": true, "acceptenv": true,
	"port": true, "listenaddress": true, "subsystem": true,
}

// sshdAliases maps deprecated keywords to the one sshd treats them as.
var sshdAliases = map[string]string{
	"challengeresponseauthentication": "kbdinteractiveauthentication",
	"pubkeyacceptedkeytypes":          "pubkeyacceptedalgorithms",
	"hostbasedacceptedkeytypes":       "hostbasedacceptedalgorithms",
}

// sshdEnum are values sshd compares without regard to case.
var sshdEnum = map[string]bool{
	"yes": true, "no": true, "prohibit-password": true, "forced-commands-only": true,
	"without-password": true, "none": true, "any": true, "all": true, "local": true,
	"remote": true, "clientspecified": true, "point-to-point": true, "ethernet": true,
}

// ParseSSHD reads the output of the sshd probe. Pure: Include globs are
// matched against the files the output holds.
func ParseSSHD(out []byte) (SSHDConfig, error) {
	c := SSHDConfig{Settings: map[string]string{}, Values: map[string][]string{}, Sources: map[string]string{},
		DefaultsApplied: []string{}, Files: []string{}}
	files := map[string]section{}
	for _, s := range parseSections(out) {
		if !strings.HasPrefix(s.name, "/") {
			s.name = "/etc/ssh/" + s.name
		}
		if _, dup := files[s.name]; !dup {
			files[s.name] = s
		}
	}
	main, ok := files[sshdConfigPath]
	if !ok {
		if strings.TrimSpace(string(out)) == "" {
			return SSHDConfig{}, errors.New("parse sshd: empty output")
		}
		return SSHDConfig{}, errors.New("parse sshd: no " + sshdConfigPath + " section in output")
	}
	switch main.note {
	case "missing":
		return c, nil
	case "unreadable":
		c.Present, c.Unreadable = true, []string{sshdConfigPath}
		return c, nil
	}
	c.Present = true
	p := sshdParser{c: &c, files: files}
	p.file(main, 0)
	for kw, v := range sshdDefaults {
		if _, set := c.Settings[kw]; !set && v != "" {
			c.Settings[kw] = v
			c.DefaultsApplied = append(c.DefaultsApplied, kw)
		}
	}
	sort.Strings(c.DefaultsApplied)
	c.Readable = len(c.Unreadable) == 0
	return c, nil
}

type sshdParser struct {
	c     *SSHDConfig
	files map[string]section
}

// file applies one file's lines. A Match block runs to the next Match or the
// end of the file it is in, as in sshd, which restores the global context
// after each included file.
func (p *sshdParser) file(s section, depth int) {
	p.c.Files = append(p.c.Files, s.name)
	inMatch := false
	for _, line := range lines(s.content, true) {
		kw, args := splitSSHDLine(line)
		switch {
		case kw == "" || len(args) == 0 || strings.Trim(kw, "abcdefghijklmnopqrstuvwxyz0123456789") != "":
			// Not a keyword sshd knows the shape of (an empty one, or a
			// file that is not sshd config at all).
		case kw == "match":
			inMatch, p.c.HasMatchBlocks = true, true
		case inMatch:
		case kw == "include":
			for _, a := range args {
				p.include(a, depth)
			}
		default:
			p.set(kw, args, s.name)
		}
	}
}

func (p *sshdParser) include(arg string, depth int) {
	if depth >= 16 { // sshd's own limit; deeper is a loop
		return
	}
	if !strings.HasPrefix(arg, "/") {
		arg = "/etc/ssh/" + arg
	}
	var names []string
	if strings.ContainsAny(arg, "*?[") {
		for name, s := range p.files {
			if ok, _ := path.Match(arg, name); ok && s.note != "missing" {
				names = append(names, name)
			}
		}
		sort.Strings(names) // glob(3) order
	} else {
		names = []string{arg}
	}
	for _, name := range names {
		s, ok := p.files[name]
		switch {
		case !ok || s.note == "missing":
		case s.note == "unreadable":
			p.c.Unreadable = append(p.c.Unreadable, name)
		default:
			p.file(s, depth+1)
		}
	}
}

func (p *sshdParser) set(kw string, args []string, file string) {
	if a, ok := sshdAliases[kw]; ok {
		kw = a
	}
	v := strings.Join(args, " ")
	if sshdMulti[kw] {
		p.c.Values[kw] = append(p.c.Values[kw], v)
		if prev, ok := p.c.Settings[kw]; ok {
			v = prev + " " + v
		} else {
			p.c.Sources[kw] = file
		}
		p.c.Settings[kw] = v
		return
	}
	if _, set := p.c.Settings[kw]; set {
		return
	}
	switch lv := strings.ToLower(v); {
	case kw == "loglevel":
		v = strings.ToUpper(v)
	case lv == "without-password":
		v = "prohibit-password"
	case sshdEnum[lv]:
		v = lv
	}
	p.c.Settings[kw], p.c.Sources[kw] = v, file
}

// splitSSHDLine splits a config line as sshd does: the keyword ends at
// whitespace or '=', one '=' may separate it from the arguments, arguments
// may be double-quoted, and an unquoted '#' starting a word ends the line.
func splitSSHDLine(line string) (kw string, args []string) {
	i := strings.IndexAny(line, " \t=")
	if i < 0 {
		return strings.ToLower(line), nil
	}
	kw, rest := strings.ToLower(line[:i]), strings.TrimLeft(line[i:], " \t")
	rest = strings.TrimLeft(strings.TrimPrefix(rest, "="), " \t")
	var b strings.Builder
	inWord, quoted := false, false
	for j := 0; j < len(rest); j++ {
		ch := rest[j]
		switch {
		case quoted && ch == '"':
			quoted = false
		case quoted && ch == '\\' && j+1 < len(rest):
			j++
			b.WriteByte(rest[j])
		case quoted:
			b.WriteByte(ch)
		case ch == ' ' || ch == '\t':
			if inWord {
				args = append(args, b.String())
				b.Reset()
				inWord = false
			}
		case ch == '#' && !inWord:
			return kw, args
		case ch == '"':
			quoted, inWord = true, true
		default:
			b.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		args = append(args, b.String())
	}
	return kw, args
}
