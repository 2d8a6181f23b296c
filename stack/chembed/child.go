package chembed

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"unsafe"

	"github.com/ebitengine/purego"
)

const (
	envChild   = "DATAMAP_CHEMBED_CHILD"
	envLibrary = "DATAMAP_CHEMBED_LIBRARY"
	envArgs    = "DATAMAP_CHEMBED_ARGS"
)

// exitParentGone is the child's exit status when its lifeline closed
// before the engine returned.
const exitParentGone = 3

// localResult mirrors struct local_result_v2 from chdb.h. Only errMsg is
// read; the other fields are there so that its offset matches the C layout.
type localResult struct {
	buf       *byte
	len       uintptr
	vec       unsafe.Pointer
	elapsed   float64
	rowsRead  uint64
	bytesRead uint64
	errMsg    *byte
}

// RunChildIfRequested turns the current process into an engine child when
// Start spawned it, and otherwise returns at once. Call it first thing in
// main and in TestMain of any package that starts a server: the child is a
// re-execution of the same binary, so it must divert before any other
// initialisation runs. It never returns in the child.
func RunChildIfRequested() {
	if os.Getenv(envChild) != "1" {
		return
	}
	os.Exit(runChild())
}

func runChild() int {
	// The engine keeps thread-local state on the thread that enters it.
	runtime.LockOSThread()

	var args []string
	if err := json.Unmarshal([]byte(os.Getenv(envArgs)), &args); err != nil {
		fmt.Fprintf(os.Stderr, "chembed child: bad %s: %v\n", envArgs, err)
		return 2
	}

	// The lifeline: the parent holds the write end of stdin. EOF means the
	// parent stopped us or died (even by SIGKILL), so leave at once. The
	// engine's own query never reads stdin, which keeps the passwordless
	// default user free of any file access; see doc.go.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		fmt.Fprintln(os.Stderr, "chembed child: lifeline closed, exiting")
		os.Exit(exitParentGone)
	}()

	lib, err := purego.Dlopen(os.Getenv(envLibrary), purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chembed child: load engine: %v\n", err)
		return 2
	}
	var query func(argc int32, argv **byte) *localResult
	purego.RegisterLibFunc(&query, lib, "query_stable_v2")

	argv := make([]*byte, 0, len(args)+2)
	for _, a := range append([]string{"clickhouse"}, args...) {
		b := append([]byte(a), 0)
		argv = append(argv, &b[0])
	}
	argv = append(argv, nil)
	res := query(int32(len(argv)-1), &argv[0])
	runtime.KeepAlive(argv)

	if res == nil {
		fmt.Fprintln(os.Stderr, "chembed child: engine returned no result")
		return 1
	}
	if res.errMsg != nil {
		fmt.Fprintf(os.Stderr, "chembed child: engine: %s\n", cString(res.errMsg))
		return 1
	}
	return 0
}

func cString(p *byte) string {
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}
