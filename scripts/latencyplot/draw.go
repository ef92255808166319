package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

// Plot geometry in pixels: the image and the margins around the plot area
// (left for the y tick labels, right for the legend).
const (
	width, height             = 760, 460
	marginLeft, marginRight   = 70, 120
	marginTop, marginBottom   = 50, 60
	fontScale                 = 2 // 5×7 glyphs drawn 2× (10×14 px)
	charWidth                 = (glyphWidth + 1) * fontScale
	lineHeight                = (glyphHeight + 3) * fontScale
	plotLeft, plotRight       = marginLeft, width - marginRight
	plotTop, plotBottom       = marginTop, height - marginBottom
	markerRadius              = 3
	tickLength                = 5
	minLatencyMs, minRate     = 0.05, 1.0
	axisPaddingDecadeFraction = 0.08 // room above and below the data on the log y axis
)

var (
	colBackground = color.RGBA{255, 255, 255, 255}
	colAxis       = color.RGBA{40, 40, 40, 255}
	colGrid       = color.RGBA{225, 225, 225, 255}
	colText       = color.RGBA{20, 20, 20, 255}
)

// series is one percentile's line.
type series struct {
	name  string
	col   color.RGBA
	value func(point) float64
}

// draw renders the points: rate on a log x axis, latency on a log y axis.
func draw(points []point, title string) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	fill(img, img.Bounds(), colBackground)
	all := []series{
		{"p50", color.RGBA{31, 119, 180, 255}, func(p point) float64 { return p.P50 }},
		{"p95", color.RGBA{255, 127, 14, 255}, func(p point) float64 { return p.P95 }},
		{"p99", color.RGBA{214, 39, 40, 255}, func(p point) float64 { return p.P99 }},
	}

	// Axis ranges, in log10 of the values.
	xMin, xMax := math.Inf(1), math.Inf(-1)
	yMin, yMax := math.Inf(1), math.Inf(-1)
	for _, p := range points {
		x := math.Log10(math.Max(p.Rate, minRate))
		xMin, xMax = math.Min(xMin, x), math.Max(xMax, x)
		for _, s := range all {
			y := math.Log10(math.Max(s.value(p), minLatencyMs))
			yMin, yMax = math.Min(yMin, y), math.Max(yMax, y)
		}
	}
	if xMax-xMin < 0.1 {
		xMin, xMax = xMin-0.3, xMax+0.3
	}
	xPad := (xMax - xMin) * 0.06
	xMin, xMax = xMin-xPad, xMax+xPad
	yMin, yMax = yMin-axisPaddingDecadeFraction-0.1, yMax+axisPaddingDecadeFraction+0.1
	px := func(rate float64) int {
		x := math.Log10(math.Max(rate, minRate))
		return plotLeft + int(math.Round((x-xMin)/(xMax-xMin)*float64(plotRight-plotLeft)))
	}
	py := func(ms float64) int {
		y := math.Log10(math.Max(ms, minLatencyMs))
		return plotBottom - int(math.Round((y-yMin)/(yMax-yMin)*float64(plotBottom-plotTop)))
	}

	// Y grid and ticks at 1, 2, 5 × 10^k ms.
	for k := math.Floor(yMin) - 1; k <= math.Ceil(yMax); k++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, k)
			if math.Log10(v) < yMin || math.Log10(v) > yMax {
				continue
			}
			y := py(v)
			hline(img, plotLeft, plotRight, y, colGrid)
			hline(img, plotLeft-tickLength, plotLeft, y, colAxis)
			label := trimFloat(v)
			text(img, plotLeft-tickLength-4-len(label)*charWidth, y-glyphHeight*fontScale/2, label, colText)
		}
	}
	// X ticks at each distinct rate.
	seen := map[float64]bool{}
	for _, p := range points {
		if seen[p.Rate] {
			continue
		}
		seen[p.Rate] = true
		x := px(p.Rate)
		vline(img, x, plotTop, plotBottom, colGrid)
		vline(img, x, plotBottom, plotBottom+tickLength, colAxis)
		label := trimFloat(p.Rate)
		text(img, x-len(label)*charWidth/2, plotBottom+tickLength+4, label, colText)
	}
	// Axes and labels.
	hline(img, plotLeft, plotRight, plotBottom, colAxis)
	vline(img, plotLeft, plotTop, plotBottom, colAxis)
	text(img, plotLeft, 6, title, colText)
	text(img, plotLeft-4*charWidth, plotTop-lineHeight, "ms (log)", colText)
	xLabel := "notifications/s (log)"
	text(img, (plotLeft+plotRight-len(xLabel)*charWidth)/2, plotBottom+tickLength+4+lineHeight, xLabel, colText)

	// Lines, markers and the legend.
	for i, s := range all {
		prevX, prevY := 0, 0
		for j, p := range points {
			x, y := px(p.Rate), py(s.value(p))
			if j > 0 {
				line(img, prevX, prevY, x, y, s.col)
			}
			disc(img, x, y, markerRadius, s.col)
			prevX, prevY = x, y
		}
		ly := plotTop + 10 + i*lineHeight
		lx := plotRight + 16
		line(img, lx, ly+glyphHeight, lx+24, ly+glyphHeight, s.col)
		disc(img, lx+12, ly+glyphHeight, markerRadius, s.col)
		text(img, lx+32, ly+glyphHeight/2, s.name, colText)
	}
	return img
}

// trimFloat prints a tick value without trailing zeros: 0.5, 2, 250.
func trimFloat(v float64) string {
	return fmt.Sprintf("%g", math.Round(v*1000)/1000)
}

// writePNG encodes img to a file.
func writePNG(name string, img image.Image) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("write png: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	for x := x0; x <= x1; x++ {
		img.SetRGBA(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	for y := y0; y <= y1; y++ {
		img.SetRGBA(x, y, c)
	}
}

// line draws a 2-pixel-wide line (Bresenham, each step a 2×2 square).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		fill(img, image.Rect(x0, y0, x0+2, y0+2), c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e // both steps decide on the error before either moves
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

// disc draws a filled circle, the point markers.
func disc(img *image.RGBA, cx, cy, r int, c color.RGBA) {
	for y := -r; y <= r; y++ {
		for x := -r; x <= r; x++ {
			if x*x+y*y <= r*r+1 {
				img.SetRGBA(cx+x+1, cy+y+1, c)
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}
