package domain

import "testing"

// Re-sending a host's options (REST PUT/PATCH, the web form) must not
// un-pin its bastion's key: that would make the next scan trust whatever
// key the bastion presents.
func TestHostInputKeepsPinnedJumpHostKey(t *testing.T) {
	const pinned = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPinnedBastionKeyForTest"
	host := func() *Host {
		return &Host{Name: "h", Address: "10.0.0.5", Port: 22, Transport: "ssh",
			Options: HostOptions{Jump: &JumpHost{Address: "bastion.example", Port: 22, HostKey: pinned}}}
	}
	tests := []struct {
		name  string
		in    HostInput
		want  string // the jump host key afterwards
		noJmp bool
	}{
		{"same bastion, no key given", HostInput{Options: &HostOptions{Sudo: true, Jump: &JumpHost{Address: "bastion.example", Port: 22}}}, pinned, false},
		{"same bastion, port left out", HostInput{Options: &HostOptions{Jump: &JumpHost{Address: "Bastion.Example"}}}, pinned, false},
		{"same bastion, reset asked", HostInput{ResetJumpHostKey: true, Options: &HostOptions{Jump: &JumpHost{Address: "bastion.example", Port: 22}}}, "", false},
		{"reset without options", HostInput{ResetJumpHostKey: true}, "", false},
		{"other bastion", HostInput{Options: &HostOptions{Jump: &JumpHost{Address: "bastion2.example", Port: 22}}}, "", false},
		{"other port", HostInput{Options: &HostOptions{Jump: &JumpHost{Address: "bastion.example", Port: 2222}}}, "", false},
		{"key given explicitly", HostInput{Options: &HostOptions{Jump: &JumpHost{Address: "bastion.example", HostKey: "ssh-ed25519 AAAAother"}}}, "ssh-ed25519 AAAAother", false},
		{"jump removed", HostInput{Options: &HostOptions{}}, "", true},
		{"options not sent", HostInput{}, pinned, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := host()
			if err := tc.in.Apply(h, false); err != nil {
				t.Fatal(err)
			}
			if tc.noJmp {
				if h.Options.Jump != nil {
					t.Fatalf("jump host kept: %+v", h.Options.Jump)
				}
				return
			}
			if h.Options.Jump == nil || h.Options.Jump.HostKey != tc.want {
				t.Fatalf("jump %+v, want key %q", h.Options.Jump, tc.want)
			}
		})
	}
}
