package main

import "time"

func sleepBriefly() { time.Sleep(time.Millisecond) }
