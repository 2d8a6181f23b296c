package report

import (
	"fmt"
	"strconv"
	"time"

	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/words"
)

// rightsSeverity ranks the findings about people's rights.
var rightsSeverity = map[string]Severity{
	people.FindingProcessingAfterWithdrawal: High,
	people.FindingErasureIncomplete:         High,
	people.FindingRequestOverdue:            High,
	people.FindingProcessingAfterErasure:    Medium,
}

// rightsFinding turns a finding about people's rights into a drift
// finding. It names no person: who they are is a subject question.
func rightsFinding(f people.Finding, names words.Names) Finding {
	// The topic is a category, a purpose or a right, by kind; the message
	// names it, what it is about keeps the key.
	topic := names.Category(f.Topic)
	if topic == f.Topic {
		topic = names.Purpose(f.Topic)
	}
	persons := words.Count(f.People, "person", "people")
	span := func() string {
		if f.First.Equal(f.Last) {
			return "on " + f.First.UTC().Format(time.DateOnly)
		}
		return "from " + f.First.UTC().Format(time.DateOnly) + " to " + f.Last.UTC().Format(time.DateOnly)
	}()
	events := words.Count(f.Events, "event", "events")
	first, last := f.First, f.Last
	// Each event about a person is one record of them (its count, absent,
	// is 1), so the records are the events.
	out := Finding{Kind: f.Kind, Severity: rightsSeverity[f.Kind], Evidence: &FindingEvidence{Events: uint64(f.Events),
		Records: uint64(f.Events), Systems: []string{f.System}, FirstSeen: &first, LastSeen: &last}}
	switch f.Kind {
	case people.FindingProcessingAfterWithdrawal:
		out.About = f.System + ": " + f.Topic
		out.Message = fmt.Sprintf("%s collected or disclosed data of %s for %q after they withdrew consent to it (%s %s)", f.System, persons, topic, events, span)
		out.Action = "stop processing for " + strconv.Quote(topic) + " for people who withdrew (GDPR Art. 7(3)); check the withdrawal reaches " + f.System + "; only the subject role sees who they are"
		out.Command = "datamap subject show REF"
	case people.FindingErasureIncomplete:
		out.About = f.System + ": " + f.Topic
		out.Message = fmt.Sprintf("%s held %q of %s whose erasure request is completed or past its deadline, and has not reported erasing it", f.System, topic, persons)
		out.Action = "erase it in " + f.System + " and publish the erased event (reason subject_request, with the subject reference); the requests page lists the requests"
		out.Command = "datamap subject requests --all"
	case people.FindingRequestOverdue:
		out.About = f.System + ": " + f.Topic
		out.Message = fmt.Sprintf("%s received by %s %s still open past their one-month deadline (GDPR Art. 12(3)), received %s",
			words.Count(f.Events, f.Topic+" request", f.Topic+" requests"), f.System, map[bool]string{true: "is", false: "are"}[f.Events == 1], span)
		out.Action = "answer them, or record the extension and tell the person why (Art. 12(3)); the requests page lists them"
		out.Command = "datamap subject requests"
	case people.FindingProcessingAfterErasure:
		out.About = f.System + ": " + f.Topic
		out.Message = fmt.Sprintf("%s collected %q of %s again after reporting its erasure on their request (%s %s)", f.System, topic, persons, events, span)
		out.Action = "find the source that brings the data back (an import, a sync, a backup restore) and suppress the erased people"
	}
	return out
}
