"""`microgpt-tui serve`: the app over SSH (asyncssh), one app per connection or one shared room."""
