package collect

import (
	"sort"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// servicesProbe puts the host's services in the report. It runs the same
// command as the services item, so one recording serves both.
var servicesProbe = Probe{
	Name:    "services",
	Command: servicesCommand,
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		s, err := ParseServices(out)
		if err != nil {
			return err
		}
		rep.System.ServiceManager, rep.System.Services = s.Manager, serviceList(s)
		return nil
	},
}

// serviceList is the item's unit map as the report's sorted list.
func serviceList(s Services) []inventory.Service {
	l := make([]inventory.Service, 0, len(s.Units))
	for name, u := range s.Units {
		l = append(l, inventory.Service{Name: name, Enabled: u.Enabled, Active: u.Active, Sub: u.Sub})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	return l
}
