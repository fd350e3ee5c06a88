package secrets

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal([]byte("hunter2"), "credential:1:password")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("sealed value contains the plaintext")
	}
	tests := []struct {
		name    string
		sealed  []byte
		ad      string
		wantErr bool
	}{
		{"round trip", sealed, "credential:1:password", false},
		{"other row", sealed, "credential:2:password", true},
		{"truncated", sealed[:10], "credential:1:password", true},
		{"flipped bit", append(append([]byte{}, sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1), "credential:1:password", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := s.Open(tc.sealed, tc.ad)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && string(pt) != "hunter2" {
				t.Fatalf("got %q", pt)
			}
		})
	}
	other, _ := NewSealer(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(sealed, "credential:1:password"); err == nil {
		t.Fatal("opened with the wrong key")
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"correct horse", true}, {"correct horse ", false}, {"", false}} {
		if got := CheckPassword(h, tc.pw); got != tc.want {
			t.Errorf("CheckPassword(%q) = %v", tc.pw, got)
		}
	}
	if CheckPassword("$argon2id$garbage", "x") {
		t.Error("accepted a malformed hash")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "master.key")
	k1, created, err := LoadOrCreateKey(path)
	if err != nil || !created || len(k1) != KeySize {
		t.Fatalf("create: %v %v %d", err, created, len(k1))
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	k2, created, err := LoadOrCreateKey(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v %v", err, created)
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("accepted a malformed key file")
	}
}

func TestToken(t *testing.T) {
	tok, hash, err := NewToken(PrefixAgentKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) < 40 || tok[:4] != PrefixAgentKey || !bytes.Equal(hash, HashToken(tok)) {
		t.Fatalf("bad token %q", tok)
	}
	tok2, _, _ := NewToken(PrefixAgentKey)
	if tok == tok2 {
		t.Fatal("tokens repeat")
	}
}
