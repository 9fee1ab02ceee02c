// A stand-in for hexai's TakeSnapshot (internal/stats), written from burntray's reading of it:
// a plain ReadFile (readers take no lock), json.Unmarshal into the version-1 schema, events kept
// when ts >= now - window (window_seconds <= 0 means 1 h), global, per-provider and per-model
// counters, RPM over the nominal window. It prints the counters as JSON so the benchmark can
// check that it and burntray agree before timing either.
//
// Usage: hexai-snapshot <stats.json> <now as Unix ns>
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"
)

type event struct {
	Ts       time.Time `json:"ts"`
	Provider string    `json:"provider"`
	Model    string    `json:"model"`
	Sent     int64     `json:"sent"`
	Recv     int64     `json:"recv"`
}

type file struct {
	Version       int       `json:"version"`
	UpdatedAt     time.Time `json:"updated_at"`
	WindowSeconds int       `json:"window_seconds"`
	Events        []event   `json:"events"`
}

type counter struct {
	Reqs int64 `json:"reqs"`
	Sent int64 `json:"sent"`
	Recv int64 `json:"recv"`
}

type snapshot struct {
	Window     string              `json:"window"`
	RPM        float64             `json:"rpm"`
	Global     counter             `json:"global"`
	ByProvider map[string]*counter `json:"by_provider"`
	ByModel    map[string]*counter `json:"by_model"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: hexai-snapshot <stats.json> <now-unix-ns>")
		os.Exit(2)
	}
	nowNs, err := strconv.ParseInt(os.Args[2], 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	now := time.Unix(0, nowNs)
	window := time.Hour
	var f file
	data, err := os.ReadFile(os.Args[1])
	if err == nil {
		if err := json.Unmarshal(data, &f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if f.WindowSeconds > 0 {
			window = time.Duration(f.WindowSeconds) * time.Second
		}
	} else if !os.IsNotExist(err) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cutoff := now.Add(-window)
	snap := snapshot{Window: window.String(), ByProvider: map[string]*counter{}, ByModel: map[string]*counter{}}
	for _, ev := range f.Events {
		if ev.Ts.Before(cutoff) {
			continue
		}
		for _, c := range []*counter{&snap.Global, get(snap.ByProvider, ev.Provider), get(snap.ByModel, ev.Provider+":"+ev.Model)} {
			c.Reqs++
			c.Sent += ev.Sent
			c.Recv += ev.Recv
		}
	}
	minutes := window.Minutes()
	if minutes <= 0 {
		minutes = 0.001
	}
	snap.RPM = float64(snap.Global.Reqs) / minutes
	out, _ := json.Marshal(snap)
	fmt.Println(string(out))
}

func get(m map[string]*counter, key string) *counter {
	c, ok := m[key]
	if !ok {
		c = &counter{}
		m[key] = c
	}
	return c
}
