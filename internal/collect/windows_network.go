package collect

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winNetworkProbe reads the IP-enabled adapters from
// Win32_NetworkAdapterConfiguration (addresses, masks, gateways and DNS
// servers in one class, on every Windows version), their connection names
// from Win32_NetworkAdapter, and the listening TCP and UDP endpoints with
// their processes' names.
var winNetworkProbe = Probe{
	Name: "win_network",
	Command: psCommand("win_network", `
$n=@{};Get-CimInstance Win32_NetworkAdapter|%{$n[[int]$_.InterfaceIndex]=$_.NetConnectionID}
$pn=@{};Get-Process|%{$pn[[int]$_.Id]=$_.ProcessName}
$a=@(Get-CimInstance Win32_NetworkAdapterConfiguration -Filter 'IPEnabled=True'|%{[pscustomobject]@{name=$n[[int]$_.InterfaceIndex];description=$_.Description;mac=$_.MACAddress;addresses=$_.IPAddress;subnets=$_.IPSubnet;gateways=$_.DefaultIPGateway;dns=$_.DNSServerSearchOrder;mtu=$_.MTU}})
$l=@(Get-NetTCPConnection -State Listen -EA SilentlyContinue|%{[pscustomobject]@{proto='tcp';address=$_.LocalAddress;port=$_.LocalPort;process=$pn[[int]$_.OwningProcess]}})+@(Get-NetUDPEndpoint -EA SilentlyContinue|%{[pscustomobject]@{proto='udp';address=$_.LocalAddress;port=$_.LocalPort;process=$pn[[int]$_.OwningProcess]}})
[pscustomobject]@{adapters=$a;listening=$l}|ConvertTo-Json -Compress -Depth 4`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		n, err := ParseWinNetwork(out)
		if err != nil {
			return err
		}
		rep.System.Network = n
		return nil
	},
}

// ParseWinNetwork parses the win_network probe. Addresses are given in CIDR
// form (IPSubnet holds a dotted mask for IPv4 and a prefix length for IPv6);
// the default route is the first adapter's first gateway.
func ParseWinNetwork(out []byte) (inventory.Network, error) {
	var raw struct {
		Adapters psList[struct {
			Name        psString         `json:"name"`
			Description psString         `json:"description"`
			MAC         psString         `json:"mac"`
			Addresses   psList[psString] `json:"addresses"`
			Subnets     psList[psString] `json:"subnets"`
			Gateways    psList[psString] `json:"gateways"`
			DNS         psList[psString] `json:"dns"`
			MTU         psInt            `json:"mtu"`
		}] `json:"adapters"`
		Listening psList[winListener] `json:"listening"`
	}
	var n inventory.Network
	if err := psUnmarshal(out, &raw); err != nil {
		return n, fmt.Errorf("parse win_network: %w", err)
	}
	dns := map[string]bool{}
	for _, a := range raw.Adapters {
		ifc := inventory.Interface{Name: string(a.Name), Up: true}
		if ifc.Name == "" {
			ifc.Name = string(a.Description)
		}
		if ifc.Name == "" {
			continue
		}
		if mac := strings.ToLower(strings.ReplaceAll(string(a.MAC), "-", ":")); isMAC(mac) {
			ifc.MAC = mac
		}
		if a.MTU > 0 && a.MTU < 1<<20 {
			ifc.MTU = int(a.MTU)
		}
		for i, s := range a.Addresses {
			addr, err := netip.ParseAddr(string(s))
			if err != nil {
				continue
			}
			bits := addr.BitLen()
			if i < len(a.Subnets) {
				if b, ok := prefixBits(string(a.Subnets[i]), addr.Is4()); ok {
					bits = b
				}
			}
			ifc.Addresses = append(ifc.Addresses, netip.PrefixFrom(addr, bits).String())
		}
		n.Interfaces = append(n.Interfaces, ifc)
		for _, g := range a.Gateways {
			if _, err := netip.ParseAddr(string(g)); err == nil && n.DefaultRoute == nil {
				n.DefaultRoute = &inventory.Route{Gateway: string(g), Interface: ifc.Name}
			}
		}
		for _, d := range a.DNS {
			if _, err := netip.ParseAddr(string(d)); err == nil && !dns[string(d)] {
				dns[string(d)] = true
				n.DNSServers = append(n.DNSServers, string(d))
			}
		}
	}
	n.Listening = winListeners(raw.Listening)
	return n, nil
}

type winListener struct {
	Proto   psString `json:"proto"`
	Address psString `json:"address"`
	Port    psInt    `json:"port"`
	Process psString `json:"process"`
}

// winListeners keeps the valid, distinct listening sockets, tcp before udp,
// by port; an IPv6 address makes the protocol tcp6 or udp6 as on Linux.
func winListeners(raw []winListener) []inventory.Listener {
	var ls []inventory.Listener
	seen := map[string]bool{}
	for _, l := range raw {
		addr, err := netip.ParseAddr(string(l.Address))
		if err != nil || l.Port <= 0 || l.Port > 65535 {
			continue
		}
		proto := strings.ToLower(string(l.Proto))
		if proto != "tcp" && proto != "udp" {
			continue
		}
		if addr.Is6() && !addr.Is4In6() {
			proto += "6"
		}
		li := inventory.Listener{Proto: proto, Address: addr.String(), Port: int(l.Port), Process: string(l.Process)}
		key := li.Proto + " " + li.Address + " " + strconv.Itoa(li.Port)
		if seen[key] {
			continue
		}
		seen[key] = true
		ls = append(ls, li)
	}
	sort.SliceStable(ls, func(i, j int) bool {
		a, b := ls[i], ls[j]
		if a.Proto != b.Proto {
			return a.Proto < b.Proto
		}
		return a.Port < b.Port
	})
	return ls
}

// prefixBits reads an IPSubnet entry: a dotted mask for IPv4, a prefix
// length for IPv6.
func prefixBits(s string, v4 bool) (int, bool) {
	if v4 {
		m, err := netip.ParseAddr(s)
		if err != nil || !m.Is4() {
			return 0, false
		}
		b := m.As4()
		bits, ended := 0, false
		for _, x := range b {
			for i := 7; i >= 0; i-- {
				if x&(1<<i) != 0 {
					if ended {
						return 0, false // not a contiguous mask
					}
					bits++
				} else {
					ended = true
				}
			}
		}
		return bits, true
	}
	bits, err := strconv.Atoi(s)
	if err != nil || bits < 0 || bits > 128 {
		return 0, false
	}
	return bits, true
}
