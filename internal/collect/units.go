package collect

import "strings"

// unitStateFunc defines st, which prints "NAME ACTIVE ENABLED" for a
// service: systemctl is-active and is-enabled where systemctl exists, else
// OpenRC's rc-service status and /etc/runlevels. ACTIVE is "unknown" when
// nothing answered (systemd not running); ENABLED is "not-found" when
// systemctl printed no state (no such unit). Names passed to st are
// compiled-in words.
const unitStateFunc = `st() { a=; e=; ` +
	`if command -v systemctl >/dev/null 2>&1; then ` +
	`a=$(systemctl is-active "$1" 2>/dev/null); e=$(systemctl is-enabled "$1" 2>/dev/null); [ -n "$e" ] || e=not-found; ` +
	`elif command -v rc-service >/dev/null 2>&1; then ` +
	`if rc-service -e "$1"; then if rc-service "$1" status >/dev/null 2>&1; then a=active; else a=inactive; fi; e=disabled; ` +
	`for d in /etc/runlevels/*/"$1"; do [ -e "$d" ] && e=enabled; done; else a=inactive; e=not-found; fi; fi; ` +
	`echo "$1 ${a:-unknown} ${e:-unknown}"; }; `

// unitStateCommand is unitStateFunc applied to each unit, then extra.
func unitStateCommand(units []string, extra string) string {
	var b strings.Builder
	b.WriteString(unitStateFunc)
	for _, u := range units {
		b.WriteString("st " + u + "; ")
	}
	b.WriteString(extra)
	return b.String()
}

// unitState is one "NAME ACTIVE ENABLED" line of st.
type unitState struct{ active, enabled string }

// parseUnitStates reads st lines for the given units; other lines go to
// rest, in order.
func parseUnitStates(out []byte, units []string) (states map[string]unitState, rest []string) {
	states = map[string]unitState{}
	for _, l := range lines(string(out), false) {
		f := strings.Fields(l)
		if len(f) == 3 && contains(units, f[0]) {
			if _, dup := states[f[0]]; !dup {
				states[f[0]] = unitState{active: f[1], enabled: f[2]}
			}
			continue
		}
		rest = append(rest, l)
	}
	return states, rest
}
