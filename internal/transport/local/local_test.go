package local

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/transport"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		cmd      string
		timeout  time.Duration
		wantOut  string
		wantCode int // 0: no error
		wantErr  string
	}{
		{"output", "echo hello; echo world", time.Second * 5, "hello\nworld\n", 0, ""},
		{"exit status and stderr", "echo oops >&2; exit 3", time.Second * 5, "", 3, "oops"},
		{"timeout is a failed command, not a dead session", "sleep 5", 100 * time.Millisecond, "", -1, "timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			out, err := Runner{}.Run(ctx, tc.cmd)
			if tc.wantCode == 0 {
				if err != nil || string(out) != tc.wantOut {
					t.Fatalf("Run = %q, %v", out, err)
				}
				return
			}
			var ee *transport.ExitError
			if !errors.As(err, &ee) || ee.Code != tc.wantCode || !strings.Contains(ee.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want exit %d with %q", err, tc.wantCode, tc.wantErr)
			}
		})
	}
}

func TestRunInput(t *testing.T) {
	out, err := Runner{}.RunInput(context.Background(), `IFS= read -r first; printf '%s|' "$first"; cat`, []byte("pw with blanks\nrest\n"))
	if err != nil || string(out) != "pw with blanks|rest\n" {
		t.Fatalf("RunInput = %q, %v", out, err)
	}
}
