package wsmantest

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4" //nolint:staticcheck // NTLM is defined over MD4
)

// The server side of NTLM (MS-NLMP): a CHALLENGE for a NEGOTIATE, and the
// check of the NTLMv2 response in the AUTHENTICATE message against the
// password the test server knows. Only what WinRM needs is implemented: no
// session keys, signing or sealing. NTLMv1 responses are refused, as current
// Windows does by default.

const (
	flagUnicode           = 0x00000001
	flagRequestTarget     = 0x00000004
	flagNTLM              = 0x00000200
	flagAlwaysSign        = 0x00008000
	flagTargetTypeDomain  = 0x00010000
	flagExtendedSecurity  = 0x00080000
	flagTargetInfo        = 0x00800000
	flag128               = 0x20000000
	flag56                = 0x80000000
	challengeHeaderLength = 48
)

var ntlmSignature = []byte("NTLMSSP\x00")

// ntlmMessageType returns the type (1, 2 or 3) of an NTLM message.
func ntlmMessageType(b []byte) (uint32, error) {
	if len(b) < 12 || string(b[:8]) != string(ntlmSignature) {
		return 0, errors.New("not an NTLMSSP message")
	}
	return binary.LittleEndian.Uint32(b[8:12]), nil
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// challengeMessage builds a CHALLENGE with a fresh server challenge.
func challengeMessage(domain, computer string) (msg []byte, serverChallenge [8]byte, err error) {
	if _, err := rand.Read(serverChallenge[:]); err != nil {
		return nil, serverChallenge, err
	}
	target := utf16le(domain)
	var info []byte
	av := func(id uint16, v []byte) {
		info = binary.LittleEndian.AppendUint16(info, id)
		info = binary.LittleEndian.AppendUint16(info, uint16(len(v)))
		info = append(info, v...)
	}
	av(2, utf16le(domain))   // MsvAvNbDomainName
	av(1, utf16le(computer)) // MsvAvNbComputerName
	av(4, utf16le(strings.ToLower(domain)+".test"))
	av(3, utf16le(strings.ToLower(computer)+"."+strings.ToLower(domain)+".test"))
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(time.Now().UnixNano()/100)+116444736000000000)
	av(7, ts) // MsvAvTimestamp
	av(0, nil)

	flags := uint32(flagUnicode | flagRequestTarget | flagNTLM | flagAlwaysSign | flagTargetTypeDomain |
		flagExtendedSecurity | flagTargetInfo | flag128 | flag56)
	b := make([]byte, challengeHeaderLength)
	copy(b, ntlmSignature)
	binary.LittleEndian.PutUint32(b[8:], 2)
	putVarField(b[12:], len(target), challengeHeaderLength)
	binary.LittleEndian.PutUint32(b[20:], flags)
	copy(b[24:32], serverChallenge[:])
	putVarField(b[40:], len(info), challengeHeaderLength+len(target))
	b = append(b, target...)
	b = append(b, info...)
	return b, serverChallenge, nil
}

func putVarField(b []byte, n, offset int) {
	binary.LittleEndian.PutUint16(b[0:], uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint32(b[4:], uint32(offset))
}

func varField(msg []byte, at int) ([]byte, error) {
	if len(msg) < at+8 {
		return nil, errors.New("message too short")
	}
	n := int(binary.LittleEndian.Uint16(msg[at:]))
	off := int(binary.LittleEndian.Uint32(msg[at+4:]))
	if off < 0 || n < 0 || off+n > len(msg) {
		return nil, fmt.Errorf("field at %d points outside the message", at)
	}
	return msg[off : off+n], nil
}

// authenticated is what a verified AUTHENTICATE message said.
type authenticated struct {
	User, Domain string
}

// verifyAuthenticate checks an AUTHENTICATE message's NTLMv2 response
// against serverChallenge and the password of the user it names:
// NTProofStr = HMAC-MD5(NTOWFv2, serverChallenge || blob), with
// NTOWFv2 = HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(upper(user) || domain)).
func verifyAuthenticate(msg []byte, serverChallenge [8]byte, password func(user string) (string, bool)) (authenticated, error) {
	var a authenticated
	if t, err := ntlmMessageType(msg); err != nil || t != 3 {
		return a, errors.New("not an AUTHENTICATE message")
	}
	if len(msg) < 64 {
		return a, errors.New("AUTHENTICATE message too short")
	}
	flags := binary.LittleEndian.Uint32(msg[60:])
	if flags&flagUnicode == 0 {
		return a, errors.New("only Unicode NTLM is supported")
	}
	nt, err := varField(msg, 20)
	if err != nil {
		return a, err
	}
	dom, err := varField(msg, 28)
	if err != nil {
		return a, err
	}
	usr, err := varField(msg, 36)
	if err != nil {
		return a, err
	}
	a.User, a.Domain = fromUTF16le(usr), fromUTF16le(dom)
	if len(nt) <= 24 {
		return a, errors.New("NTLMv1 response refused (NTLMv2 only)")
	}
	if nt[16] != 1 || nt[17] != 1 {
		return a, errors.New("NTLMv2 blob has an unknown version")
	}
	pw, ok := password(a.User)
	if !ok {
		return a, fmt.Errorf("unknown user %q", a.User)
	}
	h := md4.New()
	h.Write(utf16le(pw))
	ntowf := hmacMD5(h.Sum(nil), utf16le(strings.ToUpper(a.User)+a.Domain))
	proof := hmacMD5(ntowf, serverChallenge[:], nt[16:])
	if !hmac.Equal(proof, nt[:16]) {
		return a, fmt.Errorf("wrong password for %q", a.User)
	}
	return a, nil
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}
