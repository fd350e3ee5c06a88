// Command vigil is Vigil's single binary: server, agent, admin tools and demo.
package main

import (
	"os"

	"github.com/vigil-project/vigil/internal/cli"
)

func main() { os.Exit(cli.Execute()) }
