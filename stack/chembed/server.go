package chembed

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// EngineVersion is the chDB release that fetch-engine.sh installs.
const EngineVersion = "26.7.3-stable.1"

// User is the account clients authenticate as.
const User = "datamap"

var (
	// ErrLibraryMissing means the engine library is not installed.
	ErrLibraryMissing = errors.New("chembed: ClickHouse engine library not found")
	// ErrDataDirLocked means another server already owns the data directory.
	ErrDataDirLocked = errors.New("chembed: data directory is in use")
	// ErrChildExited means the engine process exited.
	ErrChildExited = errors.New("chembed: engine process exited")
)

// Options configure Start.
type Options struct {
	// DataDir holds the databases, configuration, password and log. One
	// server per directory. Required.
	DataDir string
	// LibraryPath is libchdb.so; "" means DefaultLibraryPath().
	LibraryPath string
	// ListenHost is the address to bind; "" means 127.0.0.1.
	ListenHost string
	// Password for User; "" means the one stored in DataDir/password,
	// generated on first start.
	Password string
	// Logger receives lifecycle events; nil discards them.
	Logger *slog.Logger
	// StartTimeout bounds the wait for readiness; 0 means 30s.
	StartTimeout time.Duration
	// TCPPort and HTTPPort are the ports to listen on; 0 picks free ones.
	// Servers that must know each other's address before they start (a
	// cluster's remote_servers) set them.
	TCPPort, HTTPPort int
	// Config holds extra configuration files (name → XML, e.g. the
	// cluster's remote_servers and macros), written to DataDir/config.d
	// and merged into the server's configuration by ClickHouse.
	Config map[string][]byte
}

// DefaultLibraryPath returns $DATAMAP_CHDB_LIBRARY if set, otherwise the
// location where fetch-engine.sh installs the engine.
func DefaultLibraryPath() string {
	if p := os.Getenv("DATAMAP_CHDB_LIBRARY"); p != "" {
		return p
	}
	var root string
	if runtime.GOOS == "darwin" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, "Library", "Caches")
	} else if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		root = x
	} else {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".cache")
	}
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	return filepath.Join(root, "datamap", "chdb", EngineVersion, runtime.GOOS+"-"+arch, "libchdb.so")
}

// Server is a running engine child process.
type Server struct {
	opts     Options
	log      *slog.Logger
	lock     *os.File
	cmd      *exec.Cmd
	lifeline io.WriteCloser
	logPath  string
	logStart int64
	tcpAddr  string
	httpAddr string
	// tcpPort and httpPort are set before start to reuse the ports of a
	// server that died (Restart), so clients reconnect to the same address.
	tcpPort, httpPort int
	password          string

	done     chan struct{}
	ready    atomic.Bool
	stopOnce sync.Once
	err      error // set before done is closed
}

// Start launches the engine in a child process and returns once a client
// can authenticate and ping it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("chembed: Options.DataDir is required")
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	opts.DataDir = dir
	if opts.LibraryPath == "" {
		opts.LibraryPath = DefaultLibraryPath()
	}
	if opts.ListenHost == "" {
		opts.ListenHost = "127.0.0.1"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(opts.LibraryPath); err != nil {
		return nil, fmt.Errorf("%w at %s: run `make setup` (downloads the ClickHouse engine) or set DATAMAP_CLICKHOUSE_DSN to use an external ClickHouse", ErrLibraryMissing, opts.LibraryPath)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("chembed: create data directory: %w", err)
	}
	// The directory holds the password and every table's files; keep other
	// local users out even if it already existed with looser bits.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("chembed: restrict data directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	password, err := loadPassword(dir, opts.Password)
	if err != nil {
		lock.Close()
		return nil, err
	}
	if err := writeConfig(dir, password, opts.Config); err != nil {
		lock.Close()
		return nil, err
	}

	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	begin := time.Now()
	for attempt := 1; ; attempt++ {
		s := &Server{opts: opts, log: log, lock: lock, password: password, tcpPort: opts.TCPPort, httpPort: opts.HTTPPort}
		err := s.start(ctx)
		if err == nil {
			log.Info("embedded ClickHouse ready", "addr", s.tcpAddr, "dir", dir, "pid", s.PID(), "elapsed", time.Since(begin))
			return s, nil
		}
		// Another process may grab a port between our probe and the
		// engine's bind; pick new ports rather than fail.
		if attempt < 3 && opts.TCPPort == 0 && errors.Is(err, ErrChildExited) && strings.Contains(err.Error(), "Address already in use") {
			log.Warn("embedded ClickHouse port taken, retrying", "attempt", attempt)
			continue
		}
		lock.Close()
		return nil, err
	}
}

// Restart starts the engine again after it died, on the same data
// directory, password and ports, so that clients holding its address
// reconnect by themselves. It takes the data directory lock again (the dead
// server released it). It returns the new Server; the old one is finished.
//
// The engine has been seen to abort when a client connection breaks in the
// middle of an INSERT (an uncaught NETWORK_ERROR in chDB 26.7's TCP
// handler); Restart is how a long-running owner recovers from that.
func (s *Server) Restart(ctx context.Context) (*Server, error) {
	select {
	case <-s.done:
	default:
		return nil, errors.New("chembed: Restart of a server that is still running; Stop or Kill it first")
	}
	lock, err := lockDir(s.opts.DataDir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
	defer cancel()
	next := &Server{opts: s.opts, log: s.log, lock: lock, password: s.password,
		tcpPort: s.tcpPort, httpPort: s.httpPort}
	if err := next.start(ctx); err != nil {
		lock.Close()
		return nil, err
	}
	s.log.Info("embedded ClickHouse restarted", "addr", next.tcpAddr, "pid", next.PID())
	return next, nil
}

func (s *Server) start(ctx context.Context) error {
	dir := s.opts.DataDir
	tcpPort, httpPort := s.tcpPort, s.httpPort
	if tcpPort == 0 || httpPort == 0 {
		freeTCP, freeHTTP, err := freePorts(s.opts.ListenHost)
		if err != nil {
			return err
		}
		if tcpPort == 0 {
			tcpPort = freeTCP
		}
		if httpPort == 0 {
			httpPort = freeHTTP
		}
	}
	s.tcpPort, s.httpPort = tcpPort, httpPort
	s.tcpAddr = net.JoinHostPort(s.opts.ListenHost, strconv.Itoa(tcpPort))
	s.httpAddr = net.JoinHostPort(s.opts.ListenHost, strconv.Itoa(httpPort))

	args, _ := json.Marshal([]string{
		"--config-file=" + filepath.Join(dir, "config.xml"),
		"--path=" + dir,
		"--listen_host=" + s.opts.ListenHost,
		"--tcp_port=" + strconv.Itoa(tcpPort),
		"--http_port=" + strconv.Itoa(httpPort),
		"--multiquery",
		// The engine runs like clickhouse-local, which takes its log level
		// from the command line, not from config.xml's <logger>: without
		// this it logs every query at debug and trace level.
		"--log-level=warning",
		"--logger.log=" + filepath.Join(dir, "engine.log"),
		"--query=" + engineQuery,
	})

	s.logPath = filepath.Join(dir, "clickhouse.log")
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("chembed: open log: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	if fi, err := logFile.Stat(); err == nil {
		s.logStart = fi.Size()
	}

	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("chembed: find own executable: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		envChild+"=1",
		envLibrary+"="+s.opts.LibraryPath,
		envArgs+"="+string(args),
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Its own process group: Ctrl-C in a terminal signals the whole
	// foreground group, and the engine must not die (and be restarted, and
	// print its trace) before the parent stops it in order through Stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// No Pdeathsig: it fires when the spawning OS thread exits, and Go
	// retires threads freely, so it would kill healthy servers at random.
	// The stdin lifeline covers parent death, including SIGKILL.
	lifeline, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("chembed: start engine process: %w", err)
	}
	s.cmd, s.lifeline, s.done = cmd, lifeline, make(chan struct{})
	go s.wait()

	if err := s.waitReady(ctx); err != nil {
		s.Kill()
		<-s.done
		return err
	}
	s.ready.Store(true)
	return nil
}

// engineQuery runs in the engine's built-in session, which is the
// passwordless default user. It only opens the listeners and then idles;
// the lifeline is watched by the Go side of the child instead of reading
// stdin here, so that session needs no file access. KILL QUERY from Stop
// ends the idle query and the engine shuts down cleanly.
const engineQuery = "SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; " +
	"SELECT sleepEachRow(1) FROM system.numbers SETTINGS max_block_size = 1 FORMAT Null"

func (s *Server) wait() {
	err := s.cmd.Wait()
	s.err = fmt.Errorf("%w (%v); last lines of %s:\n%s", ErrChildExited, err, s.logPath, s.logTail(30))
	if s.ready.Load() {
		// A dead server must not keep its directory; during Start the
		// lock stays with Start, which may retry.
		s.lock.Close()
	}
	close(s.done)
}

func (s *Server) waitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := s.ping(pctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return s.err
		case <-ctx.Done():
			return fmt.Errorf("chembed: engine not ready after %s (last error: %v); see %s", s.opts.StartTimeout, err, s.logPath)
		case <-tick.C:
		}
	}
}

func (s *Server) ping(ctx context.Context) error {
	conn, err := s.open()
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Ping(ctx)
}

func (s *Server) open() (clickhouse.Conn, error) {
	return clickhouse.Open(&clickhouse.Options{
		Addr:        []string{s.tcpAddr},
		Auth:        clickhouse.Auth{Database: "default", Username: User, Password: s.password},
		DialTimeout: time.Second,
	})
}

// Addr is the native-protocol address, host:port.
func (s *Server) Addr() string { return s.tcpAddr }

// HTTPAddr is the HTTP interface address, host:port.
func (s *Server) HTTPAddr() string { return s.httpAddr }

// Username is the account to authenticate as.
func (s *Server) Username() string { return User }

// Password is the account's password.
func (s *Server) Password() string { return s.password }

// PID is the engine child's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// DSN is a clickhouse-go/v2 URL for the server.
func (s *Server) DSN() string {
	u := url.URL{Scheme: "clickhouse", User: url.UserPassword(User, s.password), Host: s.tcpAddr, Path: "/default"}
	return u.String()
}

// Done is closed when the child has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err reports why the child exited, with the tail of its log; nil while it
// runs.
func (s *Server) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Stop shuts the server down cleanly and waits for it. If ctx ends first
// the child is killed.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.log.Info("stopping embedded ClickHouse", "pid", s.PID())
		kctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		if conn, err := s.open(); err == nil {
			// Ends the idle query, so the engine exits its main loop and
			// flushes; closing the lifeline alone would exit abruptly.
			conn.Exec(kctx, "KILL QUERY WHERE user != currentUser() SYNC")
			conn.Close()
		}
		select {
		case <-s.done:
		case <-kctx.Done():
		}
		cancel()
		s.lifeline.Close()
	})
	select {
	case <-s.done:
	case <-ctx.Done():
		s.Kill()
		<-s.done
	}
	s.lock.Close()
	return nil
}

// Kill ends the child with SIGKILL, for fault-injection tests.
func (s *Server) Kill() error {
	err := s.cmd.Process.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

func (s *Server) logTail(n int) string {
	f, err := os.Open(s.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 64 << 10
	start := s.logStart
	if fi, err := f.Stat(); err == nil && fi.Size()-start > max {
		start = fi.Size() - max
	}
	b, _ := io.ReadAll(io.NewSectionReader(f, start, max))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lockDir takes an exclusive flock on dir/.lock for the life of the
// server. The kernel drops it when the holder dies, so a crash never
// leaves a stale lock behind.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("chembed: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(f)
		f.Close()
		pid := strings.TrimSpace(string(holder))
		if pid == "" {
			pid = "unknown"
		}
		return nil, fmt.Errorf("%w: %s is used by another datamap process (pid %s); stop it or choose another data directory", ErrDataDirLocked, dir, pid)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

func loadPassword(dir, given string) (string, error) {
	path := filepath.Join(dir, "password")
	if given != "" {
		return given, nil
	}
	if b, err := os.ReadFile(path); err == nil {
		if p := strings.TrimSpace(string(b)); p != "" {
			return p, nil
		}
	}
	raw := make([]byte, 16)
	rand.Read(raw)
	p := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(p+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("chembed: store password: %w", err)
	}
	return p, nil
}

// writeConfig writes the engine configuration. The engine logs warnings
// and errors only (the level is also given on the command line, which is
// where clickhouse-local takes it from), to DataDir/engine.log and
// engine.err.log, rotated at 10 MB with 3 old files kept; queries are not
// logged (log_queries = 0, and no query_log or text_log is configured), so
// a deleted value does not survive in a log. Nor are failed queries: the
// engine logs them with their parameters' values, and the client that
// sent one gets the error anyway.
// The engine's internal
// session always authenticates as "default" with an empty password from
// 127.0.0.1, so default must stay passwordless; its grants are cut to what
// engineQuery needs. Clients use User, which holds every privilege.
func writeConfig(dir, password string, extra map[string][]byte) error {
	sum := sha256.Sum256([]byte(password))
	var users bytes.Buffer
	fmt.Fprintf(&users, `<clickhouse>
  <profiles><default><log_queries>0</log_queries></default></profiles>
  <quotas><default/></quotas>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <grants>
        <query>GRANT SYSTEM LISTEN ON *.*</query>
        <query>GRANT SELECT ON system.numbers</query>
      </grants>
    </default>
    <%s>
      <password_sha256_hex>%s</password_sha256_hex>
      <networks><ip>::/0</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <access_management>1</access_management>
      <named_collection_control>1</named_collection_control>
    </%s>
  </users>
</clickhouse>
`, User, hex.EncodeToString(sum[:]), User)
	usersPath := filepath.Join(dir, "users.xml")
	config := fmt.Sprintf(`<clickhouse>
  <logger><level>warning</level><log>%s</log><errorlog>%s</errorlog><size>10M</size><count>3</count><console>0</console>
    <levels>
      <logger><name>executeQuery</name><level>fatal</level></logger>
      <logger><name>TCPHandler</name><level>fatal</level></logger>
      <logger><name>HTTPHandler</name><level>fatal</level></logger>
    </levels>
  </logger>
  <user_directories><users_xml><path>%s</path></users_xml></user_directories>
</clickhouse>
`, filepath.Join(dir, "engine.log"), filepath.Join(dir, "engine.err.log"), usersPath)
	if err := writeFile0600(usersPath, users.Bytes()); err != nil {
		return err
	}
	if len(extra) > 0 {
		confd := filepath.Join(dir, "config.d")
		if err := os.MkdirAll(confd, 0o700); err != nil {
			return fmt.Errorf("chembed: create config.d: %w", err)
		}
		for name, body := range extra {
			if filepath.Base(name) != name || filepath.Ext(name) != ".xml" {
				return fmt.Errorf("chembed: Options.Config: %q must be a plain file name ending in .xml", name)
			}
			if err := writeFile0600(filepath.Join(confd, name), body); err != nil {
				return err
			}
		}
	}
	return writeFile0600(filepath.Join(dir, "config.xml"), []byte(config))
}

func writeFile0600(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("chembed: write %s: %w", path, err)
	}
	os.Chmod(tmp, 0o600)
	return os.Rename(tmp, path)
}

// freePorts asks the kernel for two unused ports. They are released before
// the engine binds them, so Start retries if one is taken meanwhile.
func freePorts(host string) (int, int, error) {
	var ports [2]int
	var ls [2]net.Listener
	for i := range ls {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, 0, fmt.Errorf("chembed: find a free port on %s: %w", host, err)
		}
		ls[i] = l
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	for _, l := range ls {
		l.Close()
	}
	return ports[0], ports[1], nil
}
