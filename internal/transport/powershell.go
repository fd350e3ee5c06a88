package transport

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
)

// PowerShell wraps a script as a powershell.exe command line with the script
// UTF-16LE and base64 encoded (-EncodedCommand), so no character of the
// script is ever interpreted by cmd or by PowerShell's argument parsing.
func PowerShell(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return powerShellPrefix + base64.StdEncoding.EncodeToString(b)
}

// No "-ExecutionPolicy Bypass": the execution policy governs script files,
// not -EncodedCommand, and the flag would only make the command line look
// like the malware pattern endpoint protection watches for.
const powerShellPrefix = "powershell.exe -NoProfile -NonInteractive -EncodedCommand "

// DecodePowerShell returns the script of a command line built by PowerShell;
// ok is false for anything else.
func DecodePowerShell(command string) (script string, ok bool) {
	enc, ok := strings.CutPrefix(command, powerShellPrefix)
	if !ok {
		return "", false
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(b)%2 != 0 {
		return "", false
	}
	u := make([]uint16, len(b)/2)
	for j := range u {
		u[j] = uint16(b[2*j]) | uint16(b[2*j+1])<<8
	}
	return string(utf16.Decode(u)), true
}

// MaxCommandLine is cmd.exe's limit on one command line (WinRM runs commands
// through cmd): an encoded script must stay below it.
const MaxCommandLine = 8191
