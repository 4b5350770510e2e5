module github.com/sttgo/stt

go 1.26
