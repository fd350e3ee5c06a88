package sshx_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport/sshx"
)

// What a jump host costs per host scanned: one more handshake and login,
// and a channel round trip, against an in-process server on loopback.
func BenchmarkDial(b *testing.B) {
	target := passwordServer("u", "pw")
	target.start(b)
	jump := bastion("j", "jpw", func(string, uint32) bool { return true })
	jump.start(b)
	direct := inventory.HostSpec{Address: "127.0.0.1", Port: target.port(), HostKey: target.hostKey(),
		Credential: &inventory.Credential{Username: "u", Password: "pw"}}
	via := direct
	via.Jump = &inventory.JumpHost{Address: "127.0.0.1", Port: jump.port(), HostKey: jump.hostKey(),
		Credential: &inventory.Credential{Username: "j", Password: "jpw"}}
	for _, bc := range []struct {
		name string
		spec inventory.HostSpec
	}{{"direct", direct}, {"jump", via}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				s, err := sshx.Dial(context.Background(), bc.spec, sshx.Options{Timeout: 5 * time.Second})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Run(context.Background(), "true"); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
