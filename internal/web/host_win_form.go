package web

import (
	"net/url"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
)

// winrmForm is the connection part of the add-host form: the transport and,
// for WinRM, the listener's settings. The CA certificate is not a secret and
// is given back when the form is shown again.
type winrmForm struct {
	Transport     string // "" (SSH) or winrm
	WinRMHTTP     bool   // the plain-HTTP listener (5985) instead of HTTPS (5986)
	WinRMInsecure bool
	WinRMAuth     string // ntlm (default) or basic
	WinRMCA       string
}

// readTransport reads the connection fields into in and returns a message
// for the form when they cannot work together.
func (f *hostForm) readTransport(pf url.Values, in *domain.HostInput) string {
	if pf.Get("transport") != inventory.TransportWinRM {
		return "" // SSH, the service's default
	}
	f.Transport = inventory.TransportWinRM
	f.WinRMHTTP = pf.Get("winrm_http") != ""
	f.WinRMInsecure = pf.Get("winrm_insecure") != ""
	f.WinRMAuth = strings.TrimSpace(pf.Get("winrm_auth"))
	f.WinRMCA = strings.TrimSpace(pf.Get("winrm_ca"))
	switch {
	case f.WinRMAuth != "" && f.WinRMAuth != "ntlm" && f.WinRMAuth != "basic":
		return "winrm_auth: must be ntlm or basic"
	case f.WinRMAuth == "basic" && f.WinRMHTTP:
		return "winrm_auth: basic authentication over HTTP would send the password in clear; use HTTPS or NTLM"
	case f.WinRMHTTP && (f.WinRMInsecure || f.WinRMCA != ""):
		return "winrm_http: certificate settings only apply to an HTTPS listener"
	case in.PrivateKey != nil:
		return "private_key: WinRM logs in with a password; private keys are for SSH"
	case f.WinRMCA != "" && !strings.Contains(f.WinRMCA, "-----BEGIN CERTIFICATE-----"):
		return "winrm_ca: paste the CA certificate in PEM format (-----BEGIN CERTIFICATE-----)"
	}
	t := inventory.TransportWinRM
	in.Transport = &t
	in.Options = &domain.HostOptions{WinRM: &inventory.WinRMOptions{HTTPS: !f.WinRMHTTP, Insecure: f.WinRMInsecure, CAPEM: f.WinRMCA, Auth: f.WinRMAuth}}
	if f.Port == "22" {
		// The form's SSH default left as it was: WinRM's default port
		// (5986, or 5985 for HTTP) applies instead.
		in.Port = nil
		f.Port = ""
	}
	return ""
}
