package events

import (
	"fmt"
	"reflect"
)

// Internals lent to the external tests (package events_test), which
// validate against the default taxonomy and so cannot be in package events.

// BenchEvent is the event of the decoding benchmarks.
var BenchEvent = benchEvent

// DecodeTwoPass is Decode without its fast paths.
func (v *Validator) DecodeTwoPass(raw []byte) (*Event, error) { return v.decodeTwoPass(raw) }

// DecodeReference is Decode without its hand-written fast path.
func (v *Validator) DecodeReference(raw []byte) (*Event, error) { return v.decodeReference(raw) }

// FastDecodeDisagrees says how fastDecode differs from encoding/json on
// raw, or "" when it refuses raw or agrees.
func FastDecodeDisagrees(raw []byte) string {
	fast, ok := fastDecode(raw)
	if !ok {
		return ""
	}
	var ref wireEventDecoded
	if err := strictUnmarshal(raw, &ref); err != nil {
		return fmt.Sprintf("fast path took %q, encoding/json refuses it: %v", raw, err)
	}
	if !reflect.DeepEqual(fast, ref) {
		return fmt.Sprintf("fast path: %+v\nencoding/json: %+v", fast, ref)
	}
	return ""
}
