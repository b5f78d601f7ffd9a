// Package cdrgen writes a synthetic Asterisk Master.csv for benchmarks and
// load tests, deterministically (a fixed seed gives the same bytes), in the
// layout cdr_csv writes with loguniqueid=yes and loguserfield=yes (18
// columns), with the dates in Europe/London local time as Asterisk writes
// them (so the repeated hour of an autumn change occurs and spring-forward
// gap times never do), and rows in the order cdr_csv appends them: by the
// time the call ended.
//
// All telephone numbers are from Ofcom's ranges reserved for drama; staff
// have extensions 2001 upwards.
package cdrgen

import (
	"bufio"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"
)

// Options says what to generate.
type Options struct {
	Rows  int    // CDR rows to write
	Staff int    // members of staff (1-7999)
	Seed  uint64 // 0 means the default seed 1
	// From is the first day (default 2024-01-01); calls are spread over
	// about two years from it.
	From time.Time
}

// Staff is one generated member of staff and their identifiers.
type Staff struct {
	ID    string // S-0001, S-0002, ...
	Name  string
	Ext   string // 2001, 2002, ...
	SIP   string // the PJSIP endpoint: the extension
	Phone string // the direct-dial number, national format with spaces
}

// ddiRanges are Ofcom drama ranges of 1,000 numbers each: prefix + 3 digits.
var ddiRanges = []struct{ prefix, spaced string }{
	{"01632960", "01632 960"},
	{"02079460", "020 7946 0"},
	{"01134960", "0113 496 0"},
	{"01144960", "0114 496 0"},
	{"01154960", "0115 496 0"},
	{"01164960", "0116 496 0"},
	{"01174960", "0117 496 0"},
	{"01184960", "0118 496 0"},
}

// externalRanges are drama ranges used for parties outside (none of them
// is a staff direct-dial range).
var externalRanges = []string{"07700900", "03069990", "01914980", "01214960"}

var firstNames = []string{"Alex", "Sam", "Priya", "Tomás", "Zoë", "Siân", "Łukasz", "Chen", "Aoife", "Kwame",
	"Fatima", "Søren", "José", "Anaïs", "Ravi", "Morgan", "Eilidh", "Yusuf", "Hannah", "Dmitri"}
var surnames = []string{"Example", "Smith", "Ní Bhriain", "Okafor", "Müller", "Patel", "O'Neill", "García", "Nowak",
	"Wei", "Jones", "Haddad", "Lindqvist", "Brown", "Kowalski", "MacLeod", "Ahmed", "Evans", "Rossi", "Taylor"}

// StaffList returns the generated staff, n of them.
func StaffList(n int) ([]Staff, error) {
	if n < 1 || n > 7999 {
		return nil, fmt.Errorf("staff must be 1-7999, got %d", n)
	}
	if n > 1000*len(ddiRanges) {
		return nil, fmt.Errorf("staff must be at most %d", 1000*len(ddiRanges))
	}
	out := make([]Staff, n)
	for i := range out {
		r := ddiRanges[i/1000]
		tail := fmt.Sprintf("%03d", i%1000)
		ext := strconv.Itoa(2001 + i)
		out[i] = Staff{
			ID:    fmt.Sprintf("S-%04d", i+1),
			Name:  firstNames[i%len(firstNames)] + " " + surnames[(i/len(firstNames)+i)%len(surnames)],
			Ext:   ext,
			SIP:   ext,
			Phone: r.spaced + tail,
		}
	}
	return out, nil
}

// WriteSubjects writes a subjects.yaml for staff.
func WriteSubjects(w io.Writer, staff []Staff) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# Synthetic subject directory written by samples/gencdr: %d staff, matching\n", len(staff))
	fmt.Fprintf(bw, "# the generated Master.csv (extension and PJSIP endpoint 2001+, a direct-dial\n")
	fmt.Fprintf(bw, "# number each from Ofcom's drama ranges). See samples/subjects.yaml for the format.\n")
	for _, s := range staff {
		fmt.Fprintf(bw, "- id: %s\n  name: %s\n  identifiers:\n", s.ID, strconv.Quote(s.Name))
		fmt.Fprintf(bw, "    - {kind: extension, value: %q}\n", s.Ext)
		fmt.Fprintf(bw, "    - {kind: sip, value: %q}\n", s.SIP)
		fmt.Fprintf(bw, "    - {kind: phone, value: %q}\n", s.Phone)
	}
	return bw.Flush()
}

// Write writes o.Rows CDR rows to w.
func Write(w io.Writer, o Options) error {
	if o.Rows < 0 {
		return errors.New("rows must not be negative")
	}
	staff, err := StaffList(o.Staff)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return fmt.Errorf("loading Europe/London: %w", err)
	}
	seed := o.Seed
	if seed == 0 {
		seed = 1
	}
	from := o.From
	if from.IsZero() {
		from = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	g := &gen{
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		loc:   loc,
		staff: staff,
		bw:    bufio.NewWriterSize(w, 1<<20),
		left:  o.Rows,
	}
	// About 1.055 rows per call; 5 working days and 2 quiet days a week.
	const days = 731
	perDay := float64(o.Rows) / 1.055 / (days * (5 + 2*0.15) / 7)
	y, m, d := from.Date()
	for day := 0; g.left > 0; day++ {
		date := time.Date(y, m, d+day, 0, 0, 0, 0, loc)
		weight := 1.0
		if wd := date.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weight = 0.15
		}
		n := int(perDay*weight) + boolInt(g.rng.Float64() < math.Mod(perDay*weight, 1))
		if n == 0 {
			n = 1
		}
		g.day(date, n)
	}
	for g.pending.Len() > 0 {
		g.write(heap.Pop(&g.pending).(*row))
	}
	if g.err != nil {
		return g.err
	}
	return g.bw.Flush()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

type row struct {
	acct, src, dst, dcontext, clid, channel, dstchannel, app, data string
	start, answer, end                                             int64 // Unix s; answer 0 = unanswered
	duration, billsec                                              int64
	disp, uniqueid, userfield                                      string
}

type rowHeap []*row

func (h rowHeap) Len() int           { return len(h) }
func (h rowHeap) Less(i, j int) bool { return h[i].end < h[j].end }
func (h rowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rowHeap) Push(x any)        { *h = append(*h, x.(*row)) }
func (h *rowHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}

type gen struct {
	rng     *rand.Rand
	loc     *time.Location
	staff   []Staff
	bw      *bufio.Writer
	buf     []byte
	left    int // rows still to generate
	chanSeq uint32
	callSeq int
	pending rowHeap
	err     error
}

// day generates n calls starting on date (local midnight).
func (g *gen) day(date time.Time, n int) {
	midnight := date.Unix()
	next := time.Date(date.Year(), date.Month(), date.Day()+1, 0, 0, 0, 0, g.loc).Unix()
	work := time.Date(date.Year(), date.Month(), date.Day(), 8, 0, 0, 0, g.loc).Unix()
	starts := make([]int64, n)
	for i := range starts {
		if g.rng.Float64() < 0.92 {
			starts[i] = work + g.rng.Int64N(10*3600)
		} else {
			starts[i] = midnight + g.rng.Int64N(next-midnight)
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	for _, st := range starts {
		if g.left <= 0 {
			return
		}
		for g.pending.Len() > 0 && g.pending[0].end <= st {
			g.write(heap.Pop(&g.pending).(*row))
		}
		for _, r := range g.call(st) {
			if g.left <= 0 {
				return
			}
			heap.Push(&g.pending, r)
			g.left--
		}
	}
}

func (g *gen) pickStaff() *Staff { return &g.staff[g.rng.IntN(len(g.staff))] }

func (g *gen) external() string {
	return externalRanges[g.rng.IntN(len(externalRanges))] + fmt.Sprintf("%03d", g.rng.IntN(1000))
}

func (g *gen) chanID(endpoint string) string {
	g.chanSeq++
	return "PJSIP/" + endpoint + "-" + fmt.Sprintf("%08x", g.chanSeq)
}

// outcome draws how a leg ended: ring time, talk time (0 if unanswered)
// and disposition.
func (g *gen) outcome() (ring, talk int64, disp string) {
	ring = 2 + g.rng.Int64N(20)
	switch p := g.rng.Float64(); {
	case p < 0.70:
		talk = 5 + int64(g.rng.ExpFloat64()*170)
		if talk > 3600 {
			talk = 3600
		}
		return ring, talk, "ANSWERED"
	case p < 0.88:
		return 30, 0, "NO ANSWER"
	case p < 0.94:
		return 1 + g.rng.Int64N(3), 0, "BUSY"
	case p < 0.98:
		return ring, 0, "CANCEL"
	default:
		return 0, 0, "FAILED"
	}
}

// call makes the rows of one call starting at st.
func (g *gen) call(st int64) []*row {
	g.callSeq++
	uid := strconv.FormatInt(st, 10) + "." + strconv.Itoa(g.callSeq)
	ring, talk, disp := g.outcome()
	r := &row{start: st, uniqueid: uid, disp: disp, app: "Dial"}
	// Asterisk truncates start, answer and end to whole seconds when it
	// writes them but computes duration from milliseconds: they can
	// disagree by a second.
	frac := g.rng.Int64N(2)
	finish := func(r *row, ring, talk int64) {
		if talk > 0 {
			r.answer = r.start + ring
			r.end = r.answer + talk
			r.billsec = talk
		} else {
			r.end = r.start + ring
		}
		r.duration = r.end - r.start - frac
		if r.duration < 0 {
			r.duration = 0
		}
	}
	switch p := g.rng.Float64(); {
	case p < 0.50: // internal
		a, b := g.pickStaff(), g.pickStaff()
		for b == a && len(g.staff) > 1 {
			b = g.pickStaff()
		}
		r.src, r.dst, r.dcontext = a.Ext, b.Ext, "from-internal"
		r.clid = callerID(a.Name, a.Ext)
		r.channel = g.chanID(a.SIP)
		if disp != "FAILED" {
			r.dstchannel = g.chanID(b.SIP)
		}
		r.data = "PJSIP/" + b.SIP + ",30"
		finish(r, ring, talk)
		if disp == "NO ANSWER" && g.rng.Float64() < 0.6 {
			// Party A goes on to leave a voicemail: a second row.
			vm := *r
			vm.start = r.end
			vm.answer = vm.start
			vm.billsec = 5 + g.rng.Int64N(60)
			vm.end = vm.answer + vm.billsec
			vm.duration = vm.billsec
			vm.dstchannel, vm.app, vm.data, vm.disp = "", "VoiceMail", b.Ext+"@default", "ANSWERED"
			return []*row{r, &vm}
		}
		return []*row{r}
	case p < 0.75: // inbound to a direct-dial number
		b := g.pickStaff()
		caller := g.external()
		r.src, r.dcontext = caller, "from-trunk"
		ddi := compact(b.Phone)
		switch g.rng.IntN(3) {
		case 0:
			r.dst = "+44" + ddi[1:]
		default:
			r.dst = ddi
		}
		if g.rng.IntN(4) == 0 {
			r.clid = callerID(firstNames[g.rng.IntN(len(firstNames))]+" "+surnames[g.rng.IntN(len(surnames))], caller)
		} else {
			r.clid = callerID("", caller)
		}
		r.channel = g.chanID("trunk")
		if disp != "FAILED" {
			r.dstchannel = g.chanID(b.SIP)
		}
		r.data = "PJSIP/" + b.SIP + ",30"
		finish(r, ring, talk)
		return []*row{r}
	default: // outbound
		a := g.pickStaff()
		dst := g.external()
		r.src, r.dst, r.dcontext = a.Ext, dst, "from-internal"
		r.clid = callerID(a.Name, a.Ext)
		r.channel = g.chanID(a.SIP)
		r.dstchannel = g.chanID("trunk")
		r.data = "PJSIP/" + dst + "@trunk,60"
		r.acct = "CC" + strconv.Itoa(100+g.rng.IntN(40))
		if g.rng.IntN(20) == 0 {
			r.userfield = "project " + strconv.Itoa(g.rng.IntN(500))
		}
		finish(r, ring, talk)
		return []*row{r}
	}
}

func compact(phone string) string {
	b := make([]byte, 0, len(phone))
	for i := 0; i < len(phone); i++ {
		if phone[i] != ' ' {
			b = append(b, phone[i])
		}
	}
	return string(b)
}

// callerID is clid as main/callerid.c ast_callerid_merge writes it, with
// the name escaped by ast_escape_quoted.
func callerID(name, number string) string {
	b := make([]byte, 0, len(name)+len(number)+5)
	b = append(b, '"')
	for i := 0; i < len(name); i++ {
		if name[i] == '"' || name[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, name[i])
	}
	b = append(b, `" <`...)
	b = append(b, number...)
	b = append(b, '>')
	return string(b)
}

func (g *gen) write(r *row) {
	if g.err != nil {
		return
	}
	b := g.buf[:0]
	for _, s := range []string{r.acct, r.src, r.dst, r.dcontext, r.clid, r.channel, r.dstchannel, r.app, r.data} {
		b = AppendString(b, s)
		b = append(b, ',')
	}
	b = g.appendDate(b, r.start)
	b = append(b, ',')
	if r.answer != 0 {
		b = g.appendDate(b, r.answer)
	}
	b = append(b, ',')
	b = g.appendDate(b, r.end)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.duration, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.billsec, 10)
	b = append(b, ',')
	b = AppendString(b, r.disp)
	b = append(b, ',')
	b = AppendString(b, "DOCUMENTATION")
	b = append(b, ',')
	b = AppendString(b, r.uniqueid)
	b = append(b, ',')
	b = AppendString(b, r.userfield)
	b = append(b, '\n')
	g.buf = b
	_, g.err = g.bw.Write(b)
}

// AppendString appends s as cdr_csv's append_string writes a string: in
// double quotes, an embedded quote doubled, nothing else escaped.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// appendDate appends the instant u as cdr_csv's append_date writes it:
// "%Y-%m-%d %T" in the local zone, quoted.
func (g *gen) appendDate(b []byte, u int64) []byte {
	return AppendDate(b, time.Unix(u, 0).In(g.loc))
}

// AppendDate appends t's wall clock as "YYYY-MM-DD HH:MM:SS", quoted.
func AppendDate(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = append(b, '"')
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), ' ')
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10))
	return append(b, '"')
}
