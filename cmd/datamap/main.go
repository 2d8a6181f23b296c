// Command datamap is the datamap command line; see 'datamap --help'.
package main

import (
	"context"
	"os"

	"github.com/back-trace/datamap/cli"
	"github.com/back-trace/datamap/stack/chembed"
)

func main() {
	chembed.RunChildIfRequested() // this process may be the embedded ClickHouse server
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
