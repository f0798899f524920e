"""GSM8K-style golden items for the synth tests: question, annotated solution, and the true answer as a
function of the question's digit-written numbers (so a variant's gold is checked independently of
the graph that produced it)."""

from __future__ import annotations

import re
from fractions import Fraction


def numbers(question: str) -> list[Fraction]:
    return [Fraction(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?|\.\d+", question)]


GOLDEN = [
    # (name, question, solution, answer from the question's numbers)
    ("ducks",
     "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her "
     "friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. "
     "How much in dollars does she make every day at the farmers' market?",
     "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day at the "
     "farmer’s market.\n#### 18",
     lambda n: (n[0] - 3 - 4) * n[1]),
    ("sprints",
     "James decides to run 3 sprints 3 times a week.  He runs 60 meters each sprint.  How many total meters does "
     "he run a week?",
     "He sprints 3*3=<<3*3=9>>9 times\nSo he runs 9*60=<<9*60=540>>540 meters\n#### 540",
     lambda n: n[0] * n[1] * n[2]),
    ("house",
     "Josh decides to try flipping a house.  He buys a house for $80,000 and then puts in $50,000 in repairs.  "
     "This increased the value of the house by 150%.  How much profit did he make?",
     "The cost of the house and repairs came out to 80,000+50,000=$<<80000+50000=130000>>130,000\nHe increased "
     "the value of the house by 80,000*1.5=<<80000*1.5=120000>>120,000\nSo the new value of the house is "
     "120,000+80,000=$<<120000+80000=200000>>200,000\nSo he made a profit of 200,000-130,000=$<<200000-130000=70000>>70,000\n#### 70000",
     lambda n: n[0] * n[2] / 100 - n[1]),
    ("change",
     "Tom buys 3 shirts for $12.50 each and pays with a $50 bill. How much change does he get?",
     "The shirts cost 3*12.50=<<3*12.50=37.50>>37.50 dollars.\nHis change is 50-37.50=<<50-37.50=12.50>>12.50 "
     "dollars.\n#### 12.50",
     lambda n: n[2] - n[0] * n[1]),
    ("sale",
     "A store sells a jacket for $80. During a sale the jacket is 25% off. What is the sale price in dollars?",
     "The discount is 80*25/100=<<80*25/100=20>>20 dollars.\nThe sale price is 80-20=<<80-20=60>>60 dollars.\n#### 60",
     lambda n: n[0] - n[0] * n[1] / 100),
    ("dogs",
     "John takes care of 10 dogs.  Each dog takes .5 hours a day to walk and take care of their business.  How many "
     "hours a week does he spend taking care of dogs?",
     "He spends 10*.5=<<10*.5=5>>5 hours per day\nThat means he spends 5*7=<<5*7=35>>35 hours per week\n#### 35",
     lambda n: n[0] * n[1] * 7),
]

# (name, question, solution, reason the item yields no variant)
SKIPPED = [
    ("computed_in_prose",
     "Sam sold 7 books at $4 each and then bought a game. He had $10 left. How much did the game cost?",
     "He earned 28 dollars. The game cost 28-10=<<28-10=18>>18 dollars.\n#### 18", "unexplained_number"),
    ("no_annotations", "Ann has 2 cats and 3 dogs. How many pets?", "She has 2+3=5 pets.\n#### 5", "no_annotations"),
    ("hostile_annotation", "Ann has 2 cats and 3 dogs. How many pets?",
     "<<__import__('os').system('echo pwned')=0>>\n#### 5", "bad_annotation"),
    ("power_annotation", "Ann has 2 cats and 3 dogs. How many pets?", "<<9**9**9=1>>\n#### 5", "bad_annotation"),
    ("answer_elsewhere", "Ann has 2 cats and 3 dogs. How many legs?",
     "There are 2+3=<<2+3=5>>5 pets, with 4 legs each.\n#### 20", "answer_not_computed"),
    ("only_constants", "A box holds a dozen eggs. Half of them are broken. How many are whole?",
     "12/2=<<12/2=6>>6 eggs are whole.\n#### 6", "no_free_number"),
    ("no_gold", "Ann has 2 cats and 3 dogs. How many pets?", "2+3=<<2+3=5>>5", "no_gold"),
]
