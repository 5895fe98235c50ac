module grove.bench/anchors

go 1.19
