package register

import (
	"encoding/json"
	"fmt"
	"time"
)

// Calendar knows which days are working days in one UK division, from a
// file in the format of the UK government's bank-holidays.json.
type Calendar struct {
	Division string
	holidays map[string]string // YYYY-MM-DD -> title
	first    int               // first and last year the file covers
	last     int
}

// ParseCalendar reads a bank-holidays.json document and selects a division
// ("england-and-wales", "scotland" or "northern-ireland").
func ParseCalendar(data []byte, division string) (*Calendar, error) {
	var doc map[string]struct {
		Division string `json:"division"`
		Events   []struct {
			Title string `json:"title"`
			Date  string `json:"date"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("register: bank holidays: %w", err)
	}
	div, ok := doc[division]
	if !ok {
		return nil, fmt.Errorf("register: bank holidays: no division %q (want england-and-wales, scotland or northern-ireland)", division)
	}
	c := &Calendar{Division: division, holidays: map[string]string{}}
	for i, e := range div.Events {
		d, err := time.Parse(time.DateOnly, e.Date)
		if err != nil {
			return nil, fmt.Errorf("register: bank holidays: %s event %d: bad date: %w", division, i+1, err)
		}
		c.holidays[e.Date] = e.Title
		if c.first == 0 || d.Year() < c.first {
			c.first = d.Year()
		}
		if d.Year() > c.last {
			c.last = d.Year()
		}
	}
	if len(c.holidays) == 0 {
		return nil, fmt.Errorf("register: bank holidays: division %q has no events", division)
	}
	return c, nil
}

// Years returns the first and last year the calendar covers.
func (c *Calendar) Years() (first, last int) { return c.first, c.last }

// ErrOutsideCalendar is wrapped when a date falls outside the years the
// bank-holiday file covers; the deadline cannot then be stated reliably.
var ErrOutsideCalendar = fmt.Errorf("date outside the bank-holiday calendar")

// WorkingDay reports whether d is neither a weekend day nor a bank holiday.
func (c *Calendar) WorkingDay(d time.Time) (bool, error) {
	if d.Year() < c.first || d.Year() > c.last {
		return false, fmt.Errorf("register: %s: %w (covers %d-%d; install a newer bank-holidays.json)", d.Format(time.DateOnly), ErrOutsideCalendar, c.first, c.last)
	}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false, nil
	}
	_, hol := c.holidays[d.Format(time.DateOnly)]
	return !hol, nil
}

// AddMonths returns the same date n calendar months after start; where that
// date does not exist, the last day of that month (31 January + 1 month is
// 28 or 29 February).
func AddMonths(start time.Time, n int) time.Time {
	y, m, d := start.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC)
}

// Deadline returns the date by the end of which a response is due when the
// clock started on start (day one): the same date n months later (or the
// last day of that month), moved to the next working day if it is not one.
// pauseDays (clarification) are added before the working-day rule.
func (c *Calendar) Deadline(start time.Time, months, pauseDays int) (time.Time, error) {
	d := AddMonths(start, months).AddDate(0, 0, pauseDays)
	for i := 0; i < 30; i++ {
		ok, err := c.WorkingDay(d)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			return d, nil
		}
		d = d.AddDate(0, 0, 1)
	}
	return time.Time{}, fmt.Errorf("register: no working day within 30 days of %s", d.Format(time.DateOnly))
}
