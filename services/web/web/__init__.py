"""The staff web service: server-rendered pages over intake's and approval's read APIs."""
