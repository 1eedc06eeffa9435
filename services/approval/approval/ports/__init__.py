"""What the approval service needs from the outside world."""
