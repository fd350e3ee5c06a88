package httpx

import (
	"net/http"
	"slices"
)

// Mux is an http.ServeMux that remembers every pattern registered on it.
// The server and the web app register their routes on one, and the
// route-permission test (internal/server/routes_test.go) walks the list: a
// route added without an entry in that test's table fails it, so no
// handler escapes the role checks unnoticed.
type Mux struct {
	*http.ServeMux
	patterns []string
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{ServeMux: http.NewServeMux()} }

// Handle registers h for pattern, as http.ServeMux.Handle does.
func (m *Mux) Handle(pattern string, h http.Handler) {
	m.ServeMux.Handle(pattern, h)
	m.patterns = append(m.patterns, pattern)
}

// HandleFunc registers f for pattern, as http.ServeMux.HandleFunc does.
func (m *Mux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.ServeMux.HandleFunc(pattern, f)
	m.patterns = append(m.patterns, pattern)
}

// Patterns returns the registered patterns in registration order.
func (m *Mux) Patterns() []string { return slices.Clone(m.patterns) }
