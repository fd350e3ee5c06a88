package sshx_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/demo"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport/sshx"
)

func TestDialThroughJumpHost(t *testing.T) {
	rec, err := demo.LoadRecording("debian12")
	if err != nil {
		t.Fatal(err)
	}
	target, err := demo.StartReplay(rec, "127.0.0.1:0", "scan", "target-pw")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	targetKey := sshkeyOf(target)

	// The bastion forwards only to the target; anything else is refused
	// as a firewalled bastion would.
	jump := bastion("jumper", "jump-pw", func(host string, port uint32) bool {
		return host == "127.0.0.1" && int(port) == target.Port()
	})
	jump.start(t)
	other := newSigner(t)
	closed := closedPort(t)

	type want struct {
		kind, hop string
		msg       string // in the error
		// targetLogins: password checks the target may have seen.
		targetLogins int64
	}
	spec := func(mut func(*inventory.HostSpec)) inventory.HostSpec {
		h := inventory.HostSpec{ID: 1, Name: "behind-bastion", Address: "127.0.0.1", Port: target.Port(), Transport: "ssh",
			Credential: &inventory.Credential{Username: "scan", Password: "target-pw"},
			Jump: &inventory.JumpHost{Address: "127.0.0.1", Port: jump.port(),
				Credential: &inventory.Credential{Username: "jumper", Password: "jump-pw"}}}
		if mut != nil {
			mut(&h)
		}
		return h
	}
	tests := []struct {
		name string
		spec inventory.HostSpec
		want want
	}{
		{"first use pins both keys", spec(nil), want{targetLogins: 1}},
		{"both keys pinned", spec(func(h *inventory.HostSpec) { h.HostKey, h.Jump.HostKey = targetKey, jump.hostKey() }), want{targetLogins: 1}},
		{"bastion key changed: nothing sent to either host", spec(func(h *inventory.HostSpec) {
			h.Jump.HostKey = sshkeyMarshal(other)
		}), want{kind: inventory.ErrKindHostKeyChanged, hop: sshx.HopJump, msg: "jump host 127.0.0.1:" + strconv.Itoa(jump.port())}},
		{"bastion login refused", spec(func(h *inventory.HostSpec) { h.Jump.Credential.Password = "nope" }),
			want{kind: inventory.ErrKindAuth, hop: sshx.HopJump, msg: "jump host"}},
		{"bastion unreachable", spec(func(h *inventory.HostSpec) { h.Jump.Port = closed }),
			want{kind: inventory.ErrKindUnreachable, hop: sshx.HopJump, msg: "jump host: connect"}},
		{"bastion has no credential", spec(func(h *inventory.HostSpec) { h.Jump.Credential = nil }),
			want{kind: inventory.ErrKindConfig, hop: sshx.HopJump, msg: "jump host"}},
		{"target key changed", spec(func(h *inventory.HostSpec) { h.HostKey = sshkeyMarshal(other) }),
			want{kind: inventory.ErrKindHostKeyChanged, hop: sshx.HopTarget, msg: "through jump host"}},
		{"target login refused", spec(func(h *inventory.HostSpec) { h.Credential.Password = "nope" }),
			want{kind: inventory.ErrKindAuth, hop: sshx.HopTarget, msg: "through jump host", targetLogins: 2}},
		{"bastion cannot reach the target", spec(func(h *inventory.HostSpec) { h.Port = closed }),
			want{kind: inventory.ErrKindUnreachable, hop: sshx.HopTarget, msg: "could not connect"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := target.AuthAttempts.Load()
			sessionsBefore := jump.sessions.Load()
			jumpLoginsBefore := jump.logins.Load()
			sess, err := sshx.Dial(context.Background(), tc.spec, sshx.Options{Timeout: 5 * time.Second})
			logins := target.AuthAttempts.Load() - before
			if jump.sessions.Load() != sessionsBefore {
				t.Errorf("a command ran on the bastion")
			}
			if tc.want.kind != "" {
				var se *sshx.Error
				if !errors.As(err, &se) || se.Kind != tc.want.kind || se.Hop != tc.want.hop {
					t.Fatalf("err = %v (%+v), want kind %s on hop %s", err, se, tc.want.kind, tc.want.hop)
				}
				if !strings.Contains(err.Error(), tc.want.msg) {
					t.Errorf("error %q does not say %q", err, tc.want.msg)
				}
				if tc.want.kind == inventory.ErrKindHostKeyChanged && tc.want.hop == sshx.HopJump && jump.logins.Load() != jumpLoginsBefore {
					t.Errorf("password sent to a bastion whose key changed")
				}
				if logins > tc.want.targetLogins {
					t.Errorf("target saw %d password checks, want at most %d", logins, tc.want.targetLogins)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			if sess.HostKey() != targetKey || sess.JumpHostKey() != jump.hostKey() {
				t.Errorf("keys reported: target %q jump %q", sess.HostKey(), sess.JumpHostKey())
			}
			out, err := sess.Run(context.Background(), collect.Commands()["os"])
			if err != nil || !strings.Contains(string(out), `VERSION_ID="12"`) {
				t.Fatalf("os probe through the bastion: %v %q", err, out)
			}
			if logins != tc.want.targetLogins {
				t.Errorf("target saw %d logins", logins)
			}
			f := jump.forwarded()
			if last := f[len(f)-1]; last != target.Addr {
				t.Errorf("bastion forwarded to %s, want %s", last, target.Addr)
			}
		})
	}
}

// A jump host that accepts the TCP connection but never answers must not
// hang the scan past the timeout, on either hop.
func TestDialJumpTimeouts(t *testing.T) {
	silent := silentListener(t)
	jump := bastion("j", "pw", func(string, uint32) bool { return true })
	jump.start(t)
	tests := []struct {
		name string
		spec inventory.HostSpec
		hop  string
	}{
		{"bastion silent", inventory.HostSpec{Address: "127.0.0.1", Port: 1, Credential: &inventory.Credential{Username: "u", Password: "p"},
			Jump: &inventory.JumpHost{Address: "127.0.0.1", Port: silent, Credential: &inventory.Credential{Username: "j", Password: "pw"}}}, sshx.HopJump},
		{"target silent behind bastion", inventory.HostSpec{Address: "127.0.0.1", Port: silent, Credential: &inventory.Credential{Username: "u", Password: "p"},
			Jump: &inventory.JumpHost{Address: "127.0.0.1", Port: jump.port(), Credential: &inventory.Credential{Username: "j", Password: "pw"}}}, sshx.HopTarget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := sshx.Dial(context.Background(), tc.spec, sshx.Options{Timeout: 300 * time.Millisecond})
			var se *sshx.Error
			if !errors.As(err, &se) || se.Kind != inventory.ErrKindTimeout || se.Hop != tc.hop {
				t.Fatalf("err = %v, want a timeout on hop %s", err, tc.hop)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Dial took %v with a 300ms timeout", d)
			}
		})
	}
}
