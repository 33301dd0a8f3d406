// Command etcd is the upstream etcd server, built from the go.etcd.io/etcd/server/v3 module
// pinned in go.mod: `go install` cannot build that module directly because of its replace directives.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
