package server

import (
	"fmt"
	"net/http"
	"regexp"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/sbom"
)

// handleHostSBOM serves a host's CycloneDX SBOM (JSON); ?download=1 makes
// it an attachment named after the host.
func (s *Server) handleHostSBOM(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	bom, h, err := s.svc.HostSBOM(r.Context(), *a, id)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	WriteSBOM(w, bom, h.Name, truthy(r.URL.Query().Get("download")))
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// WriteSBOM writes an SBOM response; the web app's download link uses it too.
func WriteSBOM(w http.ResponseWriter, bom *cdx.BOM, hostName string, download bool) {
	w.Header().Set("Content-Type", "application/vnd.cyclonedx+json; version=1.6")
	if download {
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.cdx.json"`, unsafeFileChars.ReplaceAllString(hostName, "_")))
	}
	// An encoding error can only be a failed write (the client went away):
	// the headers are out and there is nothing left to tell it.
	_ = sbom.Encode(w, bom)
}
