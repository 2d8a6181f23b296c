package sdk

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/back-trace/datamap/events"
)

// The spool is a write-ahead file of events waiting for NATS. Each record
// is framed as
//
//	length uint32 (big endian, of the payload)
//	crc    uint32 (CRC-32C of the payload)
//	payload: kind byte, msgID length uint16, msgID,
//	         [subject length uint16, subject, credential length uint16, credential,]
//	         the encoded event
//
// The bracketed part is there when the kind byte has spoolRouted set;
// records written before it existed lack it, and replay on their source's
// subject (events.SourceSubject), the source read from the event.
//
// so that a record torn by a crash mid-write is detected: Open skips it
// (and anything after it) with a log line and truncates the file there.
// The file is read front to back and truncated to zero once every record
// read has been acknowledged.
const (
	spoolFile       = "events.spool"
	spoolLockFile   = "spool.lock"
	spoolHeaderSize = 8
	spoolMaxRecord  = events.MaxEventSize + 1024
	spoolReadChunk  = 256 << 10
)

// spoolRouted marks a record that stores its subject and credential.
const spoolRouted = 0x80

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrSpoolLocked: another Publisher (in this or another process) uses the
// spool directory. Give each Publisher its own directory.
var ErrSpoolLocked = errors.New("events: spool directory is in use by another publisher")

// kindCodes are the kinds' codes in spool files, by index. Spooled events
// replay on their kind's subject, so a kind without a code here would be
// delivered as another kind; files written by an older version hold the
// first codes: append new kinds, never reorder.
var kindCodes = []events.Kind{events.KindCollected, events.KindShared, events.KindErased,
	events.KindConsentGiven, events.KindConsentWithdrawn, events.KindRequestReceived, events.KindRequestCompleted,
	events.KindRequestRefused}

type spool struct {
	mu          sync.Mutex
	dir         string
	f           *os.File
	lock        *os.File
	end         int64       // bytes in the file
	readOff     int64       // bytes read into ahead
	ahead       []*outgoing // read, not yet handed out
	outstanding int         // handed out, not yet acknowledged
	buf         []byte
	log         *slog.Logger
}

// openSpool opens (creating) the spool in dir, checks every record and
// returns how many events it holds.
func openSpool(dir string, log *slog.Logger) (*spool, int, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, 0, fmt.Errorf("events: spool directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, spoolLockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("events: spool lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, 0, fmt.Errorf("%w: %s (%v)", ErrSpoolLocked, dir, err)
	}
	path := filepath.Join(dir, spoolFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		lock.Close()
		return nil, 0, fmt.Errorf("events: open spool: %w", err)
	}
	s := &spool{dir: dir, f: f, lock: lock, log: log}
	n, good, err := scanSpool(f)
	if err != nil {
		s.close()
		return nil, 0, fmt.Errorf("events: read spool %s: %w", path, err)
	}
	if info, err := f.Stat(); err == nil && info.Size() > good {
		log.Warn("spool: skipping a torn or corrupt record (a crash during a write); the events before it are kept",
			"file", path, "offset", good, "bytes_skipped", info.Size()-good)
		if err := f.Truncate(good); err != nil {
			s.close()
			return nil, 0, fmt.Errorf("events: truncate torn spool record: %w", err)
		}
	}
	s.end = good
	return s, n, nil
}

// scanSpool counts the intact records and returns the offset after the
// last one.
func scanSpool(f *os.File) (records int, good int64, err error) {
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 1<<16)
	var hdr [spoolHeaderSize]byte
	payload := make([]byte, 0, 1024)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return records, good, nil
			}
			return records, good, err
		}
		n := binary.BigEndian.Uint32(hdr[0:4])
		if n < 3 || n > spoolMaxRecord {
			return records, good, nil
		}
		payload = append(payload[:0], make([]byte, n)...)
		if _, err := io.ReadFull(r, payload); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return records, good, nil
			}
			return records, good, err
		}
		if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(hdr[4:8]) {
			return records, good, nil
		}
		if _, ok := decodeSpoolPayload(payload); !ok {
			return records, good, nil
		}
		records++
		good += spoolHeaderSize + int64(n)
	}
}

func decodeSpoolPayload(p []byte) (*outgoing, bool) {
	if len(p) < 3 {
		return nil, false
	}
	routed, code := p[0]&spoolRouted != 0, int(p[0]&^spoolRouted)
	if code >= len(kindCodes) {
		return nil, false
	}
	idLen := int(binary.BigEndian.Uint16(p[1:3]))
	if len(p) < 3+idLen {
		return nil, false
	}
	o := &outgoing{kind: kindCodes[code], msgID: string(p[3 : 3+idLen]), spooled: true}
	rest := p[3+idLen:]
	if routed {
		var subject, credential []byte
		var ok bool
		if subject, rest, ok = cutSpoolString(rest); !ok {
			return nil, false
		}
		if credential, rest, ok = cutSpoolString(rest); !ok {
			return nil, false
		}
		o.subject, o.credential = string(subject), string(credential)
	}
	o.raw = append([]byte(nil), rest...)
	if !routed {
		var ev struct {
			Source string `json:"source"`
		}
		if json.Unmarshal(o.raw, &ev) != nil || ev.Source == "" {
			return nil, false
		}
		o.subject = events.SourceSubject(ev.Source, o.kind)
	}
	return o, true
}

// cutSpoolString splits a uint16-length-prefixed string off p.
func cutSpoolString(p []byte) (s, rest []byte, ok bool) {
	if len(p) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(p))
	if len(p) < 2+n {
		return nil, nil, false
	}
	return p[2 : 2+n], p[2+n:], true
}

func kindCode(k events.Kind) (byte, error) {
	if i := slices.Index(kindCodes, k); i >= 0 {
		return byte(i), nil
	}
	return 0, fmt.Errorf("events: spool: no code for kind %q (add it to kindCodes)", k)
}

// append writes records at the end of the file in one write.
func (s *spool) append(os ...*outgoing) error {
	if len(os) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return errors.New("events: spool is closed")
	}
	b := s.buf[:0]
	for _, o := range os {
		start := len(b)
		code, err := kindCode(o.kind)
		if err != nil {
			return err
		}
		b = append(b, make([]byte, spoolHeaderSize)...)
		b = append(b, code|spoolRouted)
		b = binary.BigEndian.AppendUint16(b, uint16(len(o.msgID)))
		b = append(b, o.msgID...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(o.subject)))
		b = append(b, o.subject...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(o.credential)))
		b = append(b, o.credential...)
		b = append(b, o.raw...)
		payload := b[start+spoolHeaderSize:]
		binary.BigEndian.PutUint32(b[start:], uint32(len(payload)))
		binary.BigEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
	}
	if cap(b) <= 1<<20 {
		s.buf = b
	}
	n, err := s.f.Write(b)
	if err != nil {
		// Cut a partial write, so the file stays a sequence of records.
		if n > 0 {
			_ = s.f.Truncate(s.end)
		}
		return fmt.Errorf("events: write spool: %w", err)
	}
	s.end += int64(n)
	return nil
}

func (s *spool) hasUnread() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ahead) > 0 || s.readOff < s.end
}

// next returns the next record to publish, or nil when all were read.
func (s *spool) next() (*outgoing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ahead) == 0 && s.readOff < s.end {
		if err := s.readAhead(); err != nil {
			return nil, err
		}
	}
	if len(s.ahead) == 0 {
		return nil, nil
	}
	o := s.ahead[0]
	s.ahead[0] = nil
	s.ahead = s.ahead[1:]
	s.outstanding++
	o.queued = time.Now()
	return o, nil
}

// readAhead decodes the records of the next chunk of the file.
func (s *spool) readAhead() error {
	size := min(s.end-s.readOff, spoolReadChunk)
	chunk := make([]byte, size)
	if _, err := s.f.ReadAt(chunk, s.readOff); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	for len(chunk) >= spoolHeaderSize {
		n := int(binary.BigEndian.Uint32(chunk[0:4]))
		if n < 3 || n > spoolMaxRecord {
			return s.corrupt()
		}
		if len(chunk) < spoolHeaderSize+n {
			if len(s.ahead) == 0 { // one record larger than the chunk
				big := make([]byte, spoolHeaderSize+n)
				if _, err := s.f.ReadAt(big, s.readOff); err != nil {
					return err
				}
				chunk = big
				continue
			}
			break
		}
		payload := chunk[spoolHeaderSize : spoolHeaderSize+n]
		o, ok := decodeSpoolPayload(payload)
		if !ok || crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(chunk[4:8]) {
			return s.corrupt()
		}
		s.ahead = append(s.ahead, o)
		s.readOff += int64(spoolHeaderSize + n)
		chunk = chunk[spoolHeaderSize+n:]
	}
	return nil
}

// corrupt handles a bad record in a file this process wrote: it cannot be
// framed past it, so the rest is skipped.
func (s *spool) corrupt() error {
	s.log.Error("spool: corrupt record; skipping the rest of the file", "offset", s.readOff, "bytes_skipped", s.end-s.readOff)
	s.readOff = s.end
	s.truncateIfDrained()
	return nil
}

// done marks a record handed out by next as acknowledged.
func (s *spool) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outstanding--
	s.truncateIfDrained()
}

func (s *spool) truncateIfDrained() {
	if s.outstanding > 0 || len(s.ahead) > 0 || s.readOff < s.end || s.end == 0 || s.f == nil {
		return
	}
	if err := s.f.Truncate(0); err != nil {
		s.log.Warn("spool: truncate failed; it will be retried", "err", err)
		return
	}
	s.end, s.readOff = 0, 0
}

// close syncs and closes the file and releases the directory.
func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.f != nil {
		// Records handed out and not acknowledged stay: the next run
		// publishes them again and JetStream drops the duplicates.
		s.truncateIfDrained()
		err = errors.Join(s.f.Sync(), s.f.Close())
		s.f = nil
	}
	if s.lock != nil {
		_ = s.lock.Close() // releases the flock
		s.lock = nil
	}
	return err
}
